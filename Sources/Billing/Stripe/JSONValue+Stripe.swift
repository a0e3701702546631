// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core

extension JSONValue {
    /// Stripe expands some references into objects; the id is then the object's `id`.
    var idReference: String? {
        string ?? self["id"]?.string
    }
}
