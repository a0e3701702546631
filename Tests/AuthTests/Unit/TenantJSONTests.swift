// Atlas — AuthTests
// SPDX-License-Identifier: Apache-2.0

@testable import Auth
import Foundation
import HTTP
import Testing

/// The tenant summary and detail write their own JSON on the hot `GET /tenants/current` path;
/// it must be byte for byte what their `Encodable` form gives every other route.
@Suite struct TenantJSONTests {
    func encoded<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try #require(try Response.json(value).body.bytes), as: UTF8.self)
    }

    func written<T: Encodable & JSONWritable>(_ value: T) throws -> String {
        String(decoding: try #require(try Response.json(value).body.bytes), as: UTF8.self)
    }

    @Test func summaryAndDetail_WriteWhatTheirEncodableFormWrites() throws {
        let now = Date(timeIntervalSince1970: 1_795_000_000.75)
        let summaries = [
            TenantSummary(tenant: "demo", usage: .init(tokens: 120_000, requests: 540, plan: "scale"), refreshedAt: now),
            TenantSummary(tenant: "a\"b", usage: .init(tokens: -1, requests: 0, plan: "trial"), refreshedAt: Date(timeIntervalSince1970: 0)),
        ]
        for summary in summaries {
            #expect(try written(summary) == (try encoded(summary)))
        }
        for role in [nil, "owner"] {
            let detail = TenantDetail(tenant: "acme", plan: "pro", status: "suspended", createdAt: now.addingTimeInterval(-86_400),
                                      role: role, usage: summaries[0].usage, refreshedAt: now)
            #expect(try written(detail) == (try encoded(detail)))
        }
        #expect(try written(summaries[0]) == #"{"tenant":"demo","usage":{"tokens":120000,"requests":540,"plan":"scale"},"refreshed_at":"2026-11-18T11:06:40Z"}"#)
    }
}
