// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

@testable import Auth
import Testing

@Suite struct APIKeySecretTests {
    @Test func generatesKeysThatParseBack() {
        let key = APIKeySecret.generate()
        #expect(key.text.hasPrefix("atl_"))
        #expect(key.id.count == APIKeySecret.idLength)
        #expect(key.secret.count == APIKeySecret.secretLength)
        #expect(APIKeySecret(parsing: key.text) == key)
        #expect(APIKeySecret.generate() != key)
    }

    @Test func matchesOnlyItsOwnDigest() {
        let key = APIKeySecret.generate()
        let other = APIKeySecret.generate()
        #expect(key.matches(digest: key.secretDigest))
        #expect(!key.matches(digest: other.secretDigest))
        #expect(!key.matches(digest: []))
        #expect(APIKeySecret(id: key.id, secret: other.secret).matches(digest: key.secretDigest) == false)
    }

    @Test(arguments: [
        "", "atl_", "atl_abc_def", "xyz_aaaaaaaaaaaa_" + String(repeating: "a", count: 52),
        "atl_AAAAAAAAAAAA_" + String(repeating: "a", count: 52), "atl_aaaaaaaaaaaa-" + String(repeating: "a", count: 52),
        "atl_aaaaaaaaaaaa_" + String(repeating: "a", count: 51), "atl_aaaaaaaaaaaa_" + String(repeating: "1", count: 52),
        "atl_aaaaaaaaaaaa_" + String(repeating: "a", count: 51) + "é",
    ])
    func refusesMalformedKeys(text: String) {
        #expect(APIKeySecret(parsing: text) == nil)
    }

    @Test func listsWithoutTheSecret() {
        let key = APIKeySecret.generate()
        #expect(!key.displayPrefix.contains(key.secret))
        #expect(key.displayPrefix.hasPrefix("atl_\(key.id)_"))
    }
}
