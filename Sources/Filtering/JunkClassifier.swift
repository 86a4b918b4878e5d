import Foundation

/// How often a token was seen in the messages a user trained: in how many ham (not junk)
/// messages and in how many spam messages.
public struct JunkTokenCounts: Hashable, Sendable {
    public var ham: Int
    public var spam: Int

    public init(ham: Int, spam: Int) {
        self.ham = ham
        self.spam = spam
    }
}

/// What one user has taught: how many ham and spam messages, and the counts of the tokens a
/// message to be judged holds (tokens never seen are simply absent).
public struct JunkModel: Hashable, Sendable {
    public var hamMessages: Int
    public var spamMessages: Int
    public var tokens: [String: JunkTokenCounts]

    public init(hamMessages: Int, spamMessages: Int, tokens: [String: JunkTokenCounts] = [:]) {
        self.hamMessages = hamMessages
        self.spamMessages = spamMessages
        self.tokens = tokens
    }
}

/// The classifier's answer for one message.
public struct JunkVerdict: Hashable, Sendable, CustomStringConvertible {
    /// A token that counted, with its spam probability f(w).
    public struct Clue: Hashable, Sendable {
        public var token: String
        public var probability: Double

        public init(token: String, probability: Double) {
            self.token = token
            self.probability = probability
        }
    }

    /// 0 (surely ham) … 1 (surely spam); 0.5 when the message says nothing either way.
    public var probability: Double
    /// The tokens that counted, most telling (furthest from 0.5) first.
    public var clues: [Clue]

    public init(probability: Double, clues: [Clue]) {
        self.probability = probability
        self.clues = clues
    }

    /// "0.97 (viagra 0.99, pills 0.98, …)": the probability and the five most telling tokens.
    public var description: String {
        let shown = clues.prefix(5).map { "\($0.token) \(Self.format($0.probability))" }
        return Self.format(probability) + (shown.isEmpty ? "" : " (\(shown.joined(separator: ", ")))")
    }

    /// Two decimals: 0.97, 0.5, 0.
    public static func format(_ p: Double) -> String {
        let r = (p * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}

/// A per-user Bayesian junk classifier: Gary Robinson's per-token probability with his
/// Fisher (chi-square) combining, the method of SpamBayes and of mox's junk filter, written
/// from the published formulas ("A Statistical Approach to the Spam Problem", Linux Journal,
/// 2003).
///
/// For a token w seen in h of H ham and s of S spam messages:
///
///     p(w) = (s/S) / (h/H + s/S)
///     f(w) = (strength · x + n · p(w)) / (strength + n),   n = h + s
///
/// f(w) pulls rarely seen tokens towards x (0.5, "unknown"). Of the message's tokens, those
/// with |f(w) − 0.5| ≥ `minimumDeviation` count, at most `maximumClues` of the most extreme.
/// Over those N clues:
///
///     spamminess S = 1 − C⁻¹(−2 ln Π(1 − f(w)), 2N)
///     hamminess  H = 1 − C⁻¹(−2 ln Π f(w), 2N)
///     probability  = (1 + S − H) / 2
///
/// where C⁻¹(χ², ν) is the chi-square survival function. Pure: no I/O.
public struct JunkClassifier: Hashable, Sendable {
    /// Below this many trained ham or spam messages there is no verdict: a model that has
    /// seen too little would mostly guess.
    public var minimumHam = 10
    public var minimumSpam = 10
    /// Robinson's s: how much weight the prior x has, in messages.
    public var strength = 0.45
    /// Robinson's x: the probability of a token never seen.
    public var unknownProbability = 0.5
    /// Tokens whose f(w) is closer to 0.5 than this say nothing and are left out.
    public var minimumDeviation = 0.1
    /// At most this many tokens count, the most extreme ones (SpamBayes's max_discriminators).
    public var maximumClues = 150

    public init() {}

    /// The message's spam probability with the tokens that made it, or nil when the model has
    /// not been trained on enough ham and spam yet.
    public func classify(_ tokens: [String], model: JunkModel) -> JunkVerdict? {
        guard model.hamMessages >= minimumHam, model.spamMessages >= minimumSpam else { return nil }
        var clues: [JunkVerdict.Clue] = []
        for token in Set(tokens) {
            guard let f = probability(of: token, in: model), abs(f - 0.5) >= minimumDeviation else { continue }
            clues.append(.init(token: token, probability: f))
        }
        // Most extreme first; ties by token so that the answer never depends on hashing.
        clues.sort { a, b in
            let da = abs(a.probability - 0.5), db = abs(b.probability - 0.5)
            return da != db ? da > db : a.token < b.token
        }
        if clues.count > maximumClues { clues.removeLast(clues.count - maximumClues) }
        return JunkVerdict(probability: combine(clues.map(\.probability)), clues: clues)
    }

    /// Robinson's f(w) for one token; nil for a token the model has never seen.
    public func probability(of token: String, in model: JunkModel) -> Double? {
        guard let c = model.tokens[token], c.ham > 0 || c.spam > 0, model.hamMessages > 0, model.spamMessages > 0 else {
            return nil
        }
        // A token can be counted in more messages than the totals after an untraining that
        // clamped at zero: cap the ratios at 1.
        let hamRatio = min(1, Double(c.ham) / Double(model.hamMessages))
        let spamRatio = min(1, Double(c.spam) / Double(model.spamMessages))
        let p = spamRatio / (hamRatio + spamRatio)
        let n = Double(c.ham + c.spam)
        return (strength * unknownProbability + n * p) / (strength + n)
    }

    /// Fisher's combining of the clues' probabilities; 0.5 without clues.
    public func combine(_ probabilities: [Double]) -> Double {
        guard !probabilities.isEmpty else { return 0.5 }
        // Sums of logarithms: the products themselves underflow after a few hundred clues.
        var lnSpam = 0.0, lnHam = 0.0
        for f in probabilities {
            // f(w) is strictly between 0 and 1 while strength > 0; guard the logs all the same.
            let p = min(max(f, 1e-12), 1 - 1e-12)
            lnSpam += log(1 - p)
            lnHam += log(p)
        }
        let n = probabilities.count
        let spamminess = 1 - Self.chiSquareSurvival(-2 * lnSpam, degreesOfFreedom: 2 * n)
        let hamminess = 1 - Self.chiSquareSurvival(-2 * lnHam, degreesOfFreedom: 2 * n)
        return min(1, max(0, (1 + spamminess - hamminess) / 2))
    }

    /// P(χ² ≥ x) for an even number of degrees of freedom ν = 2k:
    /// e^(−x/2) · Σ_{i<k} (x/2)^i / i!.
    public static func chiSquareSurvival(_ x: Double, degreesOfFreedom v: Int) -> Double {
        precondition(v > 0 && v % 2 == 0, "the closed form needs an even, positive number of degrees of freedom")
        let m = x / 2
        var term = exp(-m)
        var sum = term
        if v / 2 > 1 {
            for i in 1..<(v / 2) {
                term *= m / Double(i)
                sum += term
            }
        }
        return min(sum, 1)
    }
}

/// The rules a junk verdict adds to the built-in score (see docs/inbound.md, "Junk learning").
extension JunkVerdict {
    /// The rule, its points and its threshold, or nil when the probability says little.
    ///
    /// - p ≥ 0.9: `BAYES_SPAM` +5, enough for Junk at the default threshold on its own: the
    ///   user taught it, and no rule knows the user's mail better.
    /// - 0.7 ≤ p < 0.9: `BAYES_PROBABLE_SPAM` +2.5, Junk together with another doubt.
    /// - p ≤ 0.1: `BAYES_HAM` −2, which outweighs a missing reverse DNS and a missing
    ///   Message-ID, but not an SPF or DMARC failure.
    public var rule: (name: String, points: Double)? {
        if probability >= 0.9 { return ("BAYES_SPAM", 5) }
        if probability >= 0.7 { return ("BAYES_PROBABLE_SPAM", 2.5) }
        if probability <= 0.1 { return ("BAYES_HAM", -2) }
        return nil
    }
}

extension SpamScore {
    /// Adds the rule of a user's junk classifier (``JunkVerdict/rule``), naming whose
    /// classifier it was and the tokens that decided.
    public mutating func add(_ verdict: JunkVerdict, of account: String) {
        guard let rule = verdict.rule else { return }
        add(rule.name, rule.points, "\(account)'s junk classifier: probability \(verdict)")
    }
}
