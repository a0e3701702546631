// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Hashes and verifies passwords with scrypt (RFC 7914) or PBKDF2-HMAC-SHA256 (RFC 8018) from
/// OpenSSL, a per-password random salt, and the algorithm and parameters stored inside the hash
/// so they can be raised later without invalidating existing passwords.
///
/// Hashes use the PHC string format (github.com/P-H-C/phc-string-format):
/// - `$scrypt$ln=15,r=8,p=1$<salt>$<key>` (N = 2^ln)
/// - `$pbkdf2-sha256$i=600000$<salt>$<key>`
///
/// with salt and key in base64 without padding.
struct PasswordHasher: Sendable {
    /// The algorithm and cost new hashes are made with.
    enum Algorithm: Sendable, Equatable {
        case scrypt(logN: Int, r: Int, p: Int)
        case pbkdf2SHA256(iterations: Int)

        /// The default: scrypt with N = 2^15, r = 8, p = 1 — 32 MiB and about 50–100 ms per hash on a
        /// server core (RFC 7914 §2 suggests these for interactive logins).
        static let `default` = Algorithm.scrypt(logN: 15, r: 8, p: 1)

        var phcIdentifier: String {
            switch self {
            case .scrypt: "scrypt"
            case .pbkdf2SHA256: "pbkdf2-sha256"
            }
        }
    }

    /// What a stored hash asks for; out-of-range values are refused so a corrupt row cannot make a
    /// login allocate gigabytes or spin for minutes.
    static let scryptLogNRange = 10...20
    static let scryptRRange = 1...32
    static let scryptPRange = 1...16
    static let pbkdf2IterationRange = 10_000...10_000_000
    /// The most memory a hash made during start-up may take.
    static let startupMemoryLimit = 8 << 20

    /// The algorithm of the bootstrap admin's first hash: the configured one, unless it is an
    /// scrypt whose block (128 · r · N bytes; 32 MiB by default) is over ``startupMemoryLimit`` —
    /// the idle server's resident peak would triple for it — in which case PBKDF2-HMAC-SHA256 at
    /// OWASP's 600,000 iterations (cheatsheetseries.owasp.org, Password Storage Cheat Sheet): a
    /// quarter of a second of one core and no memory to speak of. ``needsRehash(_:)`` then
    /// replaces it with the configured algorithm at the first successful login.
    static func bootstrapAlgorithm(for configured: Algorithm) -> Algorithm {
        if case .scrypt(let logN, let r, _) = configured, 128 * r << logN > startupMemoryLimit {
            return .pbkdf2SHA256(iterations: 600_000)
        }
        return configured
    }
    static let saltLength = 16
    static let keyLength = 32

    let algorithm: Algorithm

    init(algorithm: Algorithm = .default) {
        self.algorithm = algorithm
    }

    /// A new hash of `password` with a fresh salt. Blocking: call through a ``KDFExecutor``.
    func hash(_ password: String) throws -> String {
        let salt = SystemCrypto.randomBytes(Self.saltLength)
        let key = try Self.derive(password: Array(password.utf8), salt: salt, algorithm: algorithm)
        return Self.encode(algorithm: algorithm, salt: salt, key: key)
    }

    /// Whether `password` matches `encoded`, compared in constant time. A malformed hash never
    /// matches. Blocking: call through a ``KDFExecutor``.
    func verify(_ password: String, against encoded: String) -> Bool {
        guard let parsed = Self.parse(encoded),
            let key = try? Self.derive(password: Array(password.utf8), salt: parsed.salt, algorithm: parsed.algorithm)
        else { return false }
        return OpenSSL.constantTimeEquals(key, parsed.key)
    }

    /// Whether `encoded` was made with weaker settings than the current ones, so a successful login
    /// should store a fresh hash.
    func needsRehash(_ encoded: String) -> Bool {
        guard let parsed = Self.parse(encoded) else { return true }
        return parsed.algorithm != algorithm
    }

    /// A well-formed hash with the current parameters, a random salt and a random key, verified
    /// against when an account does not exist, so an unknown email costs one full derivation like a
    /// wrong password and does not reveal itself by answering faster. No password can match it (a
    /// match would need a preimage of a random key), and making it runs no KDF: start-up stays fast
    /// and does not touch scrypt's 32 MiB.
    func makeDecoy() throws -> String {
        Self.encode(algorithm: algorithm, salt: SystemCrypto.randomBytes(Self.saltLength), key: SystemCrypto.randomBytes(Self.keyLength))
    }

    static func derive(password: [UInt8], salt: [UInt8], algorithm: Algorithm) throws -> [UInt8] {
        switch algorithm {
        case .scrypt(let logN, let r, let p):
            guard scryptLogNRange.contains(logN), scryptRRange.contains(r), scryptPRange.contains(p) else {
                throw KDFError(reason: "scrypt parameters out of range")
            }
            return try OpenSSL.scrypt(
                password: password, salt: salt, cost: 1 << UInt64(logN), blockSize: UInt64(r), parallelism: UInt64(p),
                length: keyLength)
        case .pbkdf2SHA256(let iterations):
            guard pbkdf2IterationRange.contains(iterations) else { throw KDFError(reason: "PBKDF2 iterations out of range") }
            return try SystemCrypto.pbkdf2SHA256(password: password, salt: salt, iterations: iterations, length: keyLength)
        }
    }

    static func encode(algorithm: Algorithm, salt: [UInt8], key: [UInt8]) -> String {
        let parameters: String
        switch algorithm {
        case .scrypt(let logN, let r, let p): parameters = "ln=\(logN),r=\(r),p=\(p)"
        case .pbkdf2SHA256(let iterations): parameters = "i=\(iterations)"
        }
        return "$\(algorithm.phcIdentifier)$\(parameters)$\(Encoding.base64NoPad(salt))$\(Encoding.base64NoPad(key))"
    }

    struct Parsed: Equatable {
        var algorithm: Algorithm
        var salt: [UInt8]
        var key: [UInt8]
    }

    static func parse(_ encoded: String) -> Parsed? {
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0].isEmpty,
            let salt = Encoding.decodeBase64NoPad(fields[3]), salt.count >= 8,
            let key = Encoding.decodeBase64NoPad(fields[4]), key.count >= 16
        else { return nil }
        var parameters: [String: Int] = [:]
        for pair in fields[2].split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Int(parts[1]) else { return nil }
            parameters[String(parts[0])] = value
        }
        switch fields[1] {
        case "scrypt":
            guard let logN = parameters["ln"], let r = parameters["r"], let p = parameters["p"], parameters.count == 3,
                scryptLogNRange.contains(logN), scryptRRange.contains(r), scryptPRange.contains(p)
            else { return nil }
            return Parsed(algorithm: .scrypt(logN: logN, r: r, p: p), salt: salt, key: key)
        case "pbkdf2-sha256":
            guard let iterations = parameters["i"], parameters.count == 1, pbkdf2IterationRange.contains(iterations) else {
                return nil
            }
            return Parsed(algorithm: .pbkdf2SHA256(iterations: iterations), salt: salt, key: key)
        default:
            return nil
        }
    }
}
