// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation

/// The Billing module's settings, read once from the environment:
///
/// | variable | default | meaning |
/// | --- | --- | --- |
/// | `ATLAS_STRIPE_WEBHOOK_SECRET` | `whsec_demo` | Stripe endpoint secret(s), comma-separated during a rotation |
/// | `ATLAS_STRIPE_WEBHOOK_TOLERANCE` | `300` | seconds a signature's `t` may be from now |
/// | `ATLAS_BILLING_GRACE_HOURS` | `168` | hours a `past_due` subscription keeps AI usage before it is refused |
/// | `ATLAS_ALERT_WEBHOOK_URL` | unset | where budget alerts are POSTed (http or https); unset = alerts are recorded, not sent |
/// | `ATLAS_ALERT_WEBHOOK_FORMAT` | `json` | `slack` (incoming-webhook `{text}`) or `json` (the alert object, for n8n) |
/// | `ATLAS_ALERT_WEBHOOK_SECRET` | unset | HMAC-SHA256 key of the `X-Atlas-Signature: t=…,v1=…` header; required in production when a URL is set |
/// | `ATLAS_ALERT_WEBHOOK_TIMEOUT` | `10` | seconds for one delivery |
/// | `ATLAS_ALERT_WEBHOOK_MAX_ATTEMPTS` | `8` | attempts before a message is marked failed |
/// | `ATLAS_ALERT_WEBHOOK_BACKOFF` | `2` | seconds before the first retry; doubles per attempt, capped at one hour |
/// | `ATLAS_OUTBOX_POLL_INTERVAL` | `1` | seconds between outbox polls when idle |
/// | `ATLAS_USAGE_BATCH_MAX` | `2048` | most usage events written in one group commit |
/// | `ATLAS_COST_ANOMALY_RATIO` | `3` | last hour's tokens ≥ ratio × the tenant's hourly baseline is a cost anomaly |
/// | `ATLAS_COST_ANOMALY_MIN_TOKENS` | `10000` | tokens in the last hour below which nothing is an anomaly |
/// | `ATLAS_COST_ANOMALY_BASELINE_HOURS` | `24` | hours of history the baseline averages |
/// | `ATLAS_COST_ANOMALY_INTERVAL` | `300` | seconds between checks |
/// | `ATLAS_COST_ANOMALY_BUDGET_HORIZON_HOURS` | `24` | alert when the last hour's rate exhausts the budget sooner than this |
///
/// `production` (`ATLAS_ENVIRONMENT`) refuses the default Stripe secret and an unsigned alert webhook.
public struct BillingConfiguration: Sendable {
    /// The format of outbound alert webhooks.
    public enum AlertFormat: String, Sendable, CaseIterable {
        /// A Slack incoming-webhook message: `{"text": …, "alert": {…}}`.
        case slack
        /// The alert object itself, for n8n and other generic receivers.
        case json
    }

    /// Endpoint secrets; a signature valid under any of them is accepted (rotation).
    public var stripeWebhookSecrets: [String]
    /// Seconds a signature's timestamp may differ from now.
    public var stripeTolerance: Int64
    /// How long a `past_due` subscription keeps AI usage, from the first failed payment.
    public var pastDueGrace: TimeInterval
    /// Where budget alerts are sent; `nil` records alerts without sending them.
    public var alertWebhookURL: URL?
    /// The body format of alert deliveries.
    public var alertWebhookFormat: AlertFormat
    /// The key of the `X-Atlas-Signature` header; `nil` sends unsigned alerts (refused in production).
    public var alertWebhookSecret: String?
    /// Seconds one delivery may take.
    public var alertWebhookTimeout: TimeInterval
    /// Attempts before a message is marked failed.
    public var alertMaxAttempts: Int
    /// Seconds before the first retry; doubled for each further attempt.
    public var alertBackoff: TimeInterval
    /// How often an idle outbox worker looks for due messages (it is also woken by new ones).
    public var outboxPollInterval: Duration
    /// Most usage events written in one group commit.
    public var usageBatchMax: Int
    /// The cost-anomaly detector's thresholds.
    public var costAnomaly: CostAnomalyConfiguration

    /// The reference design's demo secret, refused in production.
    public static let defaultStripeSecret = "whsec_demo"

    /// Settings given directly (tests, embedding); ``init(environment:)`` is the production path.
    public init(
        stripeWebhookSecrets: [String] = [BillingConfiguration.defaultStripeSecret], stripeTolerance: Int64 = 300,
        pastDueGrace: TimeInterval = 7 * 86_400, alertWebhookURL: URL? = nil, alertWebhookFormat: AlertFormat = .json,
        alertWebhookSecret: String? = nil, alertWebhookTimeout: TimeInterval = 10, alertMaxAttempts: Int = 8,
        alertBackoff: TimeInterval = 2, outboxPollInterval: Duration = .seconds(1), usageBatchMax: Int = 2048,
        costAnomaly: CostAnomalyConfiguration = CostAnomalyConfiguration()
    ) {
        self.costAnomaly = costAnomaly
        self.stripeWebhookSecrets = stripeWebhookSecrets
        self.stripeTolerance = stripeTolerance
        self.pastDueGrace = pastDueGrace
        self.alertWebhookURL = alertWebhookURL
        self.alertWebhookFormat = alertWebhookFormat
        self.alertWebhookSecret = alertWebhookSecret
        self.alertWebhookTimeout = alertWebhookTimeout
        self.alertMaxAttempts = alertMaxAttempts
        self.alertBackoff = alertBackoff
        self.outboxPollInterval = outboxPollInterval
        self.usageBatchMax = usageBatchMax
    }

    /// Reads the variables in the table above; throws ``ConfigurationError`` naming the variable,
    /// never its value.
    public init(environment: EnvironmentReader) throws {
        let production = environment.string("ATLAS_ENVIRONMENT", default: "local").lowercased() == "production"
        let secrets = environment.list("ATLAS_STRIPE_WEBHOOK_SECRET", default: [Self.defaultStripeSecret])
        if production, secrets.contains(Self.defaultStripeSecret) {
            throw ConfigurationError(variable: "ATLAS_STRIPE_WEBHOOK_SECRET", reason: "must be set to the endpoint's own secret in production")
        }
        var url: URL?
        if let text = environment.raw("ATLAS_ALERT_WEBHOOK_URL") {
            guard let parsed = URL(string: text), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme),
                  parsed.host != nil else {
                throw ConfigurationError(variable: "ATLAS_ALERT_WEBHOOK_URL", reason: "must be an absolute http(s) URL")
            }
            url = parsed
        }
        let secret = environment.raw("ATLAS_ALERT_WEBHOOK_SECRET")
        if production, url != nil, secret == nil {
            throw ConfigurationError(variable: "ATLAS_ALERT_WEBHOOK_SECRET", reason: "must be set in production when ATLAS_ALERT_WEBHOOK_URL is")
        }
        self.init(
            stripeWebhookSecrets: secrets,
            stripeTolerance: Int64(try environment.int("ATLAS_STRIPE_WEBHOOK_TOLERANCE", default: 300, in: 1...86_400)),
            pastDueGrace: TimeInterval(try environment.int("ATLAS_BILLING_GRACE_HOURS", default: 168, in: 0...8760)) * 3600,
            alertWebhookURL: url,
            alertWebhookFormat: try environment.choice("ATLAS_ALERT_WEBHOOK_FORMAT", default: AlertFormat.json),
            alertWebhookSecret: secret,
            alertWebhookTimeout: try environment.double("ATLAS_ALERT_WEBHOOK_TIMEOUT", default: 10, in: 0.1...300),
            alertMaxAttempts: try environment.int("ATLAS_ALERT_WEBHOOK_MAX_ATTEMPTS", default: 8, in: 1...100),
            alertBackoff: try environment.double("ATLAS_ALERT_WEBHOOK_BACKOFF", default: 2, in: 0.001...3600),
            outboxPollInterval: try environment.seconds("ATLAS_OUTBOX_POLL_INTERVAL", default: .seconds(1), in: 0.01...3600),
            usageBatchMax: try environment.int("ATLAS_USAGE_BATCH_MAX", default: 2048, in: 1...100_000),
            costAnomaly: try CostAnomalyConfiguration(environment: environment))
    }
}

extension BillingConfiguration: CustomStringConvertible {
    /// The settings with every secret redacted, for start-up logs.
    public var description: String {
        "BillingConfiguration(stripe_secrets: \(stripeWebhookSecrets.count) redacted, tolerance: \(stripeTolerance)s, "
            + "grace: \(Int(pastDueGrace / 3600))h, alert_webhook: \(alertWebhookURL.map { "\($0.scheme ?? "")://\($0.host ?? "")" } ?? "none"), "
            + "format: \(alertWebhookFormat.rawValue), signed: \(alertWebhookSecret != nil))"
    }
}
