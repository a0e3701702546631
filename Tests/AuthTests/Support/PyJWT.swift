// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// PyJWT (pypi.org/project/PyJWT), an implementation independent of jwt-kit, to prove that Atlas
/// tokens verify with any standard library given the secret, and that tokens such a library signs
/// verify in Atlas.
///
/// Uses a Python that already has `jwt`; otherwise creates a virtual environment in the
/// temporary directory and installs PyJWT there with pip.
enum PyJWT {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let script = #"""
    import json, sys, jwt
    command, secret = sys.argv[1], sys.argv[2]
    if command == "decode":
        claims = jwt.decode(sys.argv[3], secret, algorithms=["HS256"], issuer="atlas",
                            options={"require": ["exp", "iat", "sub", "jti", "iss"]})
        print(json.dumps(claims, sort_keys=True))
    elif command == "encode":
        claims = json.loads(sys.argv[3])
        algorithm = sys.argv[4] if len(sys.argv) > 4 else "HS256"
        print(jwt.encode(claims, secret, algorithm=algorithm))
    """#

    /// A Python interpreter that can `import jwt`.
    static func interpreter() throws -> String {
        for candidate in ["/usr/bin/python3", "python3"] {
            if (try? run(candidate, ["-c", "import jwt"])) != nil { return candidate }
        }
        let venv = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-pyjwt-venv").path
        let python = venv + "/bin/python"
        if (try? run(python, ["-c", "import jwt"])) != nil { return python }
        _ = try run("python3", ["-m", "venv", venv])
        _ = try run(python, ["-m", "pip", "install", "--quiet", "PyJWT>=2.6,<3"])
        return python
    }

    /// Runs a program; throws with its stderr when it exits non-zero.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(program) exited \(process.terminationStatus): \(String(decoding: err, as: UTF8.self))")
        }
        return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// PyJWT's verification of `token` under `secret`: the claims, or a thrown error.
    static func decode(_ token: String, secret: String) throws -> [String: Any] {
        let text = try run(try interpreter(), ["-c", script, "decode", secret, token])
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    /// A token PyJWT signs with `secret`.
    static func encode(_ claims: [String: Any], secret: String, algorithm: String = "HS256") throws -> String {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: claims), as: UTF8.self)
        return try run(try interpreter(), ["-c", script, "encode", secret, json, algorithm])
    }
}
