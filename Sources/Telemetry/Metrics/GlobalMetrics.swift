// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Synchronization

/// The factory `MetricsSystem` is bootstrapped with, once per process: it hands every handle
/// request to the factory installed last. swift-metrics allows a single bootstrap, while a test
/// process builds many applications, each with its own registry; a handle made while one is
/// installed keeps writing into that one.
final class ForwardingMetricsFactory: MetricsFactory, Sendable {
    private let target: Mutex<any MetricsFactory>

    init(target: any MetricsFactory) {
        self.target = Mutex(target)
    }

    func install(_ factory: any MetricsFactory) {
        target.withLock { $0 = factory }
    }

    private var current: any MetricsFactory { target.withLock { $0 } }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        current.makeCounter(label: label, dimensions: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        current.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        current.makeMeter(label: label, dimensions: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        current.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        current.makeTimer(label: label, dimensions: dimensions)
    }

    // Atlas handles remove themselves from the registry that made them, whichever factory is
    // current when they are destroyed.
    func destroyCounter(_ handler: any CounterHandler) { current.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { current.destroyFloatingPointCounter(handler) }
    func destroyMeter(_ handler: any MeterHandler) { current.destroyMeter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { current.destroyRecorder(handler) }
    func destroyTimer(_ handler: any TimerHandler) { current.destroyTimer(handler) }

    /// The one instance `MetricsSystem` was bootstrapped with, once something installed a target.
    static let shared = Mutex<ForwardingMetricsFactory?>(nil)

    /// Bootstraps `MetricsSystem` with the shared forwarder on the first call; every call makes
    /// `factory` the forwarder's target.
    static func install(_ factory: any MetricsFactory) {
        shared.withLock { shared in
            if let shared {
                shared.install(factory)
            } else {
                let forwarder = ForwardingMetricsFactory(target: factory)
                shared = forwarder
                MetricsSystem.bootstrap(forwarder)
            }
        }
    }
}
