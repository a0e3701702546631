// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

/// Labelled question pairs that calibrate the semantic cache's similarity threshold: `true` when
/// the second question asks exactly what the first asks (a cached answer to one answers the
/// other), `false` otherwise. Most negatives are hard: same topic, same words, another question
/// ("open" against "close", Canada against Mexico), because those are the pairs a cache must
/// not confuse. Written for this purpose; bench/RESULTS.md ("Retrieval") records the threshold's
/// precision and recall on them.
enum ParaphrasePairs {
    struct Pair: Sendable {
        let first: String
        let second: String
        let paraphrase: Bool
    }

    static let all: [Pair] = positives.map { Pair(first: $0.0, second: $0.1, paraphrase: true) }
        + negatives.map { Pair(first: $0.0, second: $0.1, paraphrase: false) }

    static let positives: [(String, String)] = [
        ("How do I reset my password?", "What's the way to reset my password?"),
        ("How can I change my password?", "How do I update my password?"),
        ("What does the premium plan cost?", "How much is the premium plan?"),
        ("How much does shipping cost to Canada?", "What is the price of delivery to Canada?"),
        ("Can I get a refund on my order?", "Can my order be refunded?"),
        ("When does the store open on Sundays?", "What time does the store open on Sunday?"),
        ("How do I cancel my subscription?", "How can I terminate my subscription?"),
        ("What is the capital of France?", "Which city is the capital of France?"),
        ("How long does delivery take?", "How many days does shipping take?"),
        ("Where can I download the mobile app?", "Where do I download the app for my smartphone?"),
        ("How do I delete my account?", "How can I remove my account?"),
        ("Who founded the company?", "Who established the company?"),
        ("What are the system requirements for the software?", "What system does the application require?"),
        ("Is customer data encrypted at rest?", "Do you encrypt stored customer data?"),
        ("How do I contact customer support?", "How can I contact the customer help team?"),
        ("What is the refund policy?", "What are the rules for refunds?"),
        ("How do I install the printer driver?", "How do I set up the printer driver?"),
        ("Why is my internet connection so slow?", "Why is my network connection sluggish?"),
        ("How many employees does the firm have?", "How many staff work at the company?"),
        ("What is the population of Tokyo?", "How many people live in Tokyo?"),
        ("How do I export my data to CSV?", "How can I export my information as a CSV file?"),
        ("What are the opening hours of the museum?", "When is the museum open?"),
        ("How do I enable two-factor authentication?", "How can I turn on two-factor authentication?"),
        ("Can I pay with a credit card?", "Do you accept payment by credit card?"),
        ("How do I upgrade to the latest version?", "How can I upgrade to the newest release?"),
        ("What is the warranty period for the laptop?", "How long is the laptop's guarantee?"),
        ("How do I fix a paper jam in the printer?", "How can I repair a printer paper jam?"),
        ("Where is the nearest hospital?", "Where can I find the nearest clinic?"),
        ("How do I schedule a meeting?", "How can I put a meeting on the calendar?"),
        ("What causes the error message on startup?", "Why does the error message appear at startup?"),
        ("How do I add a new user to my team?", "How can I add another user to the team?"),
        ("Is there a free trial?", "Can I try it for free?"),
        ("How do I change the language settings?", "How can I modify the language preferences?"),
        ("What is the maximum file size for uploads?", "What is the upload limit for a file?"),
        ("How do I restore a deleted file?", "How can I recover a removed file?"),
        ("Does the hotel allow pets?", "Are pets permitted at the hotel?"),
        ("How fast is the new processor?", "How quick is the newest processor?"),
        ("How do I book a flight to Berlin?", "How can I book a plane to Berlin?"),
        ("What should I do if my package arrives damaged?", "What do I do when my package is delivered broken?"),
        ("How do I invite a colleague to the workspace?", "How can I invite a coworker to my workspace?"),
        ("What time does the train leave for Paris?", "When does the train to Paris depart?"),
        ("How much does the annual plan cost?", "What is the price of the yearly plan?"),
        ("How do I restart the router?", "How can I restart my router?"),
        ("Can I change my delivery address?", "Is it possible to modify the shipping address?"),
    ]

    static let negatives: [(String, String)] = [
        // Same topic, another question.
        ("How do I reset my password?", "How do I reset my username?"),
        ("How do I change my password?", "How do I change my email address?"),
        ("What does the premium plan cost?", "What does the premium plan include?"),
        ("How much does shipping cost to Canada?", "How much does shipping cost to Mexico?"),
        ("When does the store open on Sundays?", "When does the store close on Sundays?"),
        ("How do I cancel my subscription?", "How do I renew my subscription?"),
        ("What is the capital of France?", "What is the capital of Germany?"),
        ("How long does delivery take?", "How much does delivery cost?"),
        ("Where can I download the mobile app?", "Where can I download the desktop app?"),
        ("How do I delete my account?", "How do I create an account?"),
        ("Who founded the company?", "When was the company founded?"),
        ("Is customer data encrypted at rest?", "Is customer data encrypted in transit?"),
        ("What is the refund policy?", "What is the privacy policy?"),
        ("How do I install the printer driver?", "How do I uninstall the printer driver?"),
        ("Why is my internet connection so slow?", "Why does my internet connection keep dropping out?"),
        ("How many employees does the firm have?", "How many offices does the firm have?"),
        ("What is the population of Tokyo?", "What is the population of Osaka?"),
        ("How do I export my data to CSV?", "How do I import my data from CSV?"),
        ("Can I pay with a credit card?", "Can I pay with PayPal?"),
        ("How do I upgrade to the latest version?", "How do I downgrade to an older version?"),
        ("What is the warranty period for the laptop?", "What is the battery life of the laptop?"),
        ("How do I book a flight to Berlin?", "How do I book a hotel in Berlin?"),
        ("What time does the train leave for Paris?", "What time does the train arrive in Paris?"),
        ("How do I add a new user to my team?", "How do I remove a user from my team?"),
        ("Does the hotel allow pets?", "Does the hotel have parking?"),
        ("How do I change the language settings?", "How do I change the notification settings?"),
        ("How many days does shipping take?", "How many days is the return window?"),
        ("How do I invite a colleague to the workspace?", "How do I leave the workspace?"),
        // Unrelated.
        ("How do I reset my password?", "What is the weather like in Madrid?"),
        ("What does the premium plan cost?", "Who wrote the novel War and Peace?"),
        ("How long does delivery take?", "How do I bake sourdough bread?"),
        ("Is there a free trial?", "What is the boiling point of water?"),
        ("How do I schedule a meeting?", "Which river flows through Cairo?"),
        ("How do I fix a paper jam in the printer?", "What vaccines does my dog need?"),
        ("How do I enable two-factor authentication?", "What is the tallest mountain in Africa?"),
        ("Where is the nearest hospital?", "How do I change a flat tire?"),
        ("Can I change my delivery address?", "What are the symptoms of the flu?"),
        ("What is the maximum file size for uploads?", "How many players are on a soccer team?"),
        ("How do I restore a deleted file?", "When was the Eiffel Tower built?"),
        ("What causes the error message on startup?", "What causes high blood pressure?"),
    ]
}
