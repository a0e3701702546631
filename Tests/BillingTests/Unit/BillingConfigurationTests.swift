// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

@testable import Billing
import Core
import Foundation
import Testing

@Suite struct BillingConfigurationTests {
    @Test func readsRotatedSecretsAndAlertSettings_FromTheEnvironment() throws {
        let configuration = try BillingConfiguration(environment: EnvironmentReader([
            "ATLAS_STRIPE_WEBHOOK_SECRET": "whsec_new, whsec_old",
            "ATLAS_ALERT_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X",
            "ATLAS_ALERT_WEBHOOK_FORMAT": "SLACK",
            "ATLAS_ALERT_WEBHOOK_SECRET": "s3cret",
            "ATLAS_BILLING_GRACE_HOURS": "24",
        ]))
        #expect(configuration.stripeWebhookSecrets == ["whsec_new", "whsec_old"])
        #expect(configuration.alertWebhookFormat == .slack)
        #expect(configuration.pastDueGrace == 86_400)
        #expect(!configuration.description.contains("s3cret") && !configuration.description.contains("whsec_new"))
        #expect(!configuration.description.contains("/services/T/B/X"))
    }

    @Test func refusesUnusableOrUnsafeSettings_NamingTheVariableNotTheValue() {
        let cases: [([String: String], String)] = [
            (["ATLAS_ENVIRONMENT": "production"], "ATLAS_STRIPE_WEBHOOK_SECRET"),
            (["ATLAS_ENVIRONMENT": "production", "ATLAS_STRIPE_WEBHOOK_SECRET": "whsec_live_x",
              "ATLAS_ALERT_WEBHOOK_URL": "https://example.com/hook"], "ATLAS_ALERT_WEBHOOK_SECRET"),
            (["ATLAS_ALERT_WEBHOOK_URL": "ftp://example.com/x"], "ATLAS_ALERT_WEBHOOK_URL"),
            (["ATLAS_ALERT_WEBHOOK_URL": "not a url"], "ATLAS_ALERT_WEBHOOK_URL"),
            (["ATLAS_ALERT_WEBHOOK_FORMAT": "xml"], "ATLAS_ALERT_WEBHOOK_FORMAT"),
            (["ATLAS_STRIPE_WEBHOOK_TOLERANCE": "-1"], "ATLAS_STRIPE_WEBHOOK_TOLERANCE"),
            (["ATLAS_BILLING_GRACE_HOURS": "a week"], "ATLAS_BILLING_GRACE_HOURS"),
        ]
        for (environment, variable) in cases {
            do {
                _ = try BillingConfiguration(environment: EnvironmentReader(environment))
                Issue.record("accepted \(environment)")
            } catch let error as ConfigurationError {
                #expect(error.variable == variable)
                for (key, value) in environment where key != "ATLAS_ENVIRONMENT" { #expect(!error.description.contains(value)) }
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}
