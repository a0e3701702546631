// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// An amount of US dollars in whole cents. Money is never a binary floating-point number in
/// Atlas: amounts are integers of cents, unit prices integers of micro-dollars (``Microdollars``),
/// and every conversion from micro-dollars to cents rounds half away from zero at one stated place.
struct Cents: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    var value: Int64

    init(_ value: Int64) { self.value = value }

    static let zero = Cents(0)

    static func + (lhs: Cents, rhs: Cents) -> Cents { Cents(lhs.value + rhs.value) }
    static func - (lhs: Cents, rhs: Cents) -> Cents { Cents(lhs.value - rhs.value) }
    static prefix func - (amount: Cents) -> Cents { Cents(-amount.value) }
    static func < (lhs: Cents, rhs: Cents) -> Bool { lhs.value < rhs.value }

    /// `numerator / denominator` of this amount, rounded half away from zero to the cent.
    /// Used for proration; both factors are non-negative.
    func scaled(by numerator: Int64, over denominator: Int64) -> Cents {
        precondition(denominator > 0 && numerator >= 0)
        let (product, overflow) = value.multipliedReportingOverflow(by: numerator)
        if !overflow { return Cents(Self.divideRoundingHalfAwayFromZero(product, denominator)) }
        // Only reachable for amounts far beyond any plan price; stays exact with a double-width product.
        let wide = value.multipliedFullWidth(by: numerator)
        let division = denominator.dividingFullWidth(wide)
        var quotient = division.quotient
        if division.remainder.magnitude * 2 >= UInt64(denominator) { quotient += value < 0 ? -1 : 1 }
        return Cents(quotient)
    }

    /// `dividend / divisor` rounded half away from zero (so 0.5 ¢ → 1 ¢ and −0.5 ¢ → −1 ¢).
    static func divideRoundingHalfAwayFromZero(_ dividend: Int64, _ divisor: Int64) -> Int64 {
        precondition(divisor > 0)
        let quotient = dividend / divisor
        let remainder = dividend % divisor
        guard remainder.magnitude * 2 >= UInt64(divisor) else { return quotient }
        return dividend < 0 ? quotient - 1 : quotient + 1
    }

    /// The amount in dollars with exactly two decimals, e.g. `1009.50`, `-350.00`, `0.00`.
    var description: String { Self.decimalText(value, scale: 2) }

    /// The amount in dollars as a `Decimal`, exact (decimal, not binary).
    var dollars: Decimal { Decimal(sign: value < 0 ? .minus : .plus, exponent: -2, significand: Decimal(value.magnitude)) }

    /// `value / 10^scale` as decimal text with exactly `scale` decimals.
    static func decimalText(_ value: Int64, scale: Int) -> String {
        var unit: UInt64 = 1
        for _ in 0..<scale { unit *= 10 }
        let magnitude = value.magnitude
        let whole = magnitude / unit
        var fraction = String(magnitude % unit)
        while fraction.count < scale { fraction = "0" + fraction }
        return (value < 0 ? "-" : "") + String(whole) + (scale > 0 ? "." + fraction : "")
    }
}

/// A unit price in millionths of a US dollar, so sub-cent prices such as $0.0005 per token are
/// exact integers (500).
struct Microdollars: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    var value: Int64

    init(_ value: Int64) { self.value = value }

    static func < (lhs: Microdollars, rhs: Microdollars) -> Bool { lhs.value < rhs.value }

    /// Micro-dollars per cent.
    static let perCent: Int64 = 10_000

    /// `quantity` units at this price, rounded half away from zero to the cent.
    func times(_ quantity: Int64) -> Cents {
        let (product, overflow) = value.multipliedReportingOverflow(by: quantity)
        precondition(!overflow, "usage charge out of range")
        return Cents(Cents.divideRoundingHalfAwayFromZero(product, Self.perCent))
    }

    /// The price in dollars with trailing zeros removed but at least two decimals (`0.0005`, `249.00`).
    var description: String {
        var text = Cents.decimalText(value, scale: 6)
        while text.hasSuffix("0"), let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) > 3 {
            text.removeLast()
        }
        return text
    }

    /// The price in dollars as an exact `Decimal`.
    var dollars: Decimal { Decimal(sign: value < 0 ? .minus : .plus, exponent: -6, significand: Decimal(value.magnitude)) }
}
