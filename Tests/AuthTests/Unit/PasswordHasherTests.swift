// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

@testable import Auth
import Testing

@Suite struct PasswordHasherTests {
    static let fastScrypt = PasswordHasher(algorithm: .scrypt(logN: 10, r: 8, p: 1))
    static let fastPBKDF2 = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 10_000))

    /// RFC 7914 §11's PBKDF2-HMAC-SHA256 vectors (also what `openssl kdf … PBKDF2` prints), and
    /// random bytes that differ between calls and cover every length.
    @Test func pbkdf2MatchesTheRFCVectors_AndRandomBytesComeInEveryLength() throws {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(try SystemCrypto.pbkdf2SHA256(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, length: 64))
                == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
        #expect(hex(try SystemCrypto.pbkdf2SHA256(password: Array("Password".utf8), salt: Array("NaCl".utf8), iterations: 80_000, length: 64))
                == "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d")
        for count in [0, 1, 7, 8, 9, 16, 32, 33] {
            #expect(SystemCrypto.randomBytes(count).count == count)
        }
        #expect(SystemCrypto.randomBytes(32) != SystemCrypto.randomBytes(32))
    }

    @Test(arguments: [fastScrypt, fastPBKDF2])
    func verifiesTheRightPassword_AndRejectsAWrongOne(hasher: PasswordHasher) throws {
        let hash = try hasher.hash("correct horse battery staple")
        #expect(hasher.verify("correct horse battery staple", against: hash))
        #expect(!hasher.verify("correct horse battery stapl", against: hash))
        #expect(!hasher.verify("", against: hash))
    }

    @Test func encodesAlgorithmParametersAndSalt_InPHCFormat() throws {
        let scrypt = try Self.fastScrypt.hash("pw")
        #expect(scrypt.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        let pbkdf2 = try Self.fastPBKDF2.hash("pw")
        #expect(pbkdf2.hasPrefix("$pbkdf2-sha256$i=10000$"))
        let parsed = try #require(PasswordHasher.parse(scrypt))
        #expect(parsed.salt.count == PasswordHasher.saltLength)
        #expect(parsed.key.count == PasswordHasher.keyLength)
    }

    @Test(arguments: [fastScrypt, fastPBKDF2])
    func decoyIsWellFormedWithCurrentParameters_AndMatchesNoPassword(hasher: PasswordHasher) throws {
        let decoy = try hasher.makeDecoy()
        let parsed = try #require(PasswordHasher.parse(decoy))
        #expect(parsed.algorithm == hasher.algorithm)
        #expect(!hasher.needsRehash(decoy))
        for password in ["", "atlas", "correct horse battery staple"] {
            #expect(!hasher.verify(password, against: decoy))
        }
        #expect(try hasher.makeDecoy() != decoy)
    }

    @Test func usesAFreshSaltForEveryHash() throws {
        let first = try Self.fastScrypt.hash("same password")
        let second = try Self.fastScrypt.hash("same password")
        #expect(first != second)
        #expect(Self.fastScrypt.verify("same password", against: second))
    }

    @Test func verifiesHashesMadeWithOtherSettings_AndAsksForARehash() throws {
        let old = try Self.fastPBKDF2.hash("secret-password")
        #expect(Self.fastScrypt.verify("secret-password", against: old))
        #expect(Self.fastScrypt.needsRehash(old))
        #expect(!Self.fastScrypt.needsRehash(try Self.fastScrypt.hash("x")))
    }

    @Test(arguments: [
        "", "plain", "$scrypt$ln=10,r=8,p=1$c2FsdA$", "$md5$x$y$z", "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
        "$pbkdf2-sha256$i=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5", "$scrypt$ln=10,r=8$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
    ])
    func neverMatchesAMalformedOrOutOfRangeHash(hash: String) {
        #expect(!Self.fastScrypt.verify("", against: hash))
        #expect(!Self.fastScrypt.verify("plain", against: hash))
    }

    @Test func matchesRFC7914TestVector() throws {
        // RFC 7914 §12, second vector: P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64.
        let key = try OpenSSL.scrypt(
            password: Array("password".utf8), salt: Array("NaCl".utf8), cost: 1024, blockSize: 8, parallelism: 16, length: 64)
        #expect(Encoding.hex(key).hasPrefix("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"))
    }

    @Test func computesSHA256_AndComparesInConstantTimeHelpers() {
        #expect(Encoding.hex(SystemCrypto.sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(OpenSSL.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!OpenSSL.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!OpenSSL.constantTimeEquals([1, 2, 3], [1, 2]))
    }

    @Test func runsDerivationsOnTheExecutor_AndRefusesBeyondItsQueue() async throws {
        let executor = KDFExecutor(threads: 1, maximumPending: 1)
        let hasher = Self.fastScrypt
        let hash = try await executor.run { try hasher.hash("pw") }
        #expect(try await executor.run { hasher.verify("pw", against: hash) })
        // One slow derivation holds the only slot; a second is refused at once. The slow one says
        // when it runs and waits to be released, so a busy machine cannot reorder the two.
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        async let slow: Bool = executor.run {
            started.signal()
            release.wait()
            return true
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                started.wait()
                continuation.resume()
            }
        }
        await #expect(throws: KDFExecutor.Busy.self) { try await executor.run { true } }
        release.signal()
        #expect(try await slow)
    }
}

import Foundation
