// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

extension String {
    /// Without leading and trailing spaces and tabs (the blanks RFC 9110 allows around header
    /// values); `self` when there are none. Byte-wise: it runs on every authenticated request.
    public var trimmingBlanks: String {
        let utf8 = self.utf8
        guard let first = utf8.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        let last = utf8.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })!
        if first == utf8.startIndex, utf8.index(after: last) == utf8.endIndex { return self }
        return String(self[first...last])
    }
}
