// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

/// A retrieval test corpus: 8 domains × 5 fictional subjects × 5 facets = 200 documents, and
/// 3 questions per subject (plus questions that name no subject) asked the way a user would:
/// paraphrased ("How much does it cost each month?" for "billed at $49 per month"), not copied.
///
/// Generated from templates so it is large enough to measure, yet every document reads like a
/// real help-centre or encyclopaedia page. All names are invented, so no embedder has seen them.
enum QualityCorpus {
    struct Document: Sendable {
        let id: String
        let title: String
        let text: String
        let domain: String
    }

    struct Question: Sendable {
        let text: String
        /// The id of the one document that answers it.
        let answer: String
    }

    /// A facet of a domain: its title, its text for subject `i`, and question templates.
    private struct Facet: Sendable {
        let title: String
        let text: @Sendable (Int, String) -> String
        let questions: [@Sendable (Int, String) -> String]
        /// A question that does not name the subject but only matches this subject's facts.
        var anonymous: (@Sendable (Int) -> String)? = nil
    }

    private struct Domain: Sendable {
        let name: String
        let subjects: [String]
        let facets: [Facet]
    }

    static let documents: [Document] = build().documents
    static let questions: [Question] = build().questions

    /// Questions written after the thesaurus and the embedder were frozen, and never used to tune
    /// them: their score is the honest one for text Atlas was not adjusted to.
    static let heldOut: [Question] = [
        Question(text: "Does Quillbase offer single sign-on?", answer: "software-2-2"),
        Question(text: "Where do I find the Norvale invoices and what do seats cost?", answer: "software-1-0"),
        Question(text: "Can Trellix Hub be set up without an internet connection?", answer: "software-3-1"),
        Question(text: "Zentrix says it lost connection to the sync server, what now?", answer: "software-0-3"),
        Question(text: "How long are Pavonia workspace backups retained?", answer: "software-4-4"),
        Question(text: "Which monks started Solbrenna?", answer: "cities-1-0"),
        Question(text: "Is it hot in Solbrenna during summer?", answer: "cities-1-1"),
        Question(text: "How much is a tram ticket in Marrowick?", answer: "cities-0-2"),
        Question(text: "What sweet is eaten in Tolvik at harvest time?", answer: "cities-4-3"),
        Question(text: "What percentage of Ardhaven is out of work?", answer: "cities-3-4"),
        Question(text: "What does the amber newt hunt?", answer: "animals-1-1"),
        Question(text: "In which country does the velvet shrike live?", answer: "animals-0-0"),
        Question(text: "How many years can a marsh hopper live in a zoo?", answer: "animals-4-2"),
        Question(text: "What does the crested lorikin build its nest from?", answer: "animals-2-3"),
        Question(text: "How endangered is the amber newt?", answer: "animals-1-4"),
        Question(text: "What goes into lemon thyme focaccia dough?", answer: "recipes-1-0"),
        Question(text: "How many grams of fibre does juniper braised beef contain?", answer: "recipes-4-4"),
        Question(text: "How should I reheat frozen cardamom rice pudding?", answer: "recipes-3-3"),
        Question(text: "What is the first thing to do when making smoked paprika lentils?", answer: "recipes-2-1"),
        Question(text: "Does Solace Audio deliver to Germany?", answer: "retailers-4-1"),
        Question(text: "What condition must returned goods be in at Larkspur Home?", answer: "retailers-2-0"),
        Question(text: "Where is Kestrel Electronics customer data kept?", answer: "retailers-1-3"),
        Question(text: "How many interview rounds does Brightwell Outfitters have?", answer: "retailers-0-4"),
        Question(text: "What safety rating did the Halden Cargo get?", answer: "vehicles-4-1"),
        Question(text: "How much extra is the premium trim of the Meridian EV?", answer: "vehicles-2-3"),
        Question(text: "What is the top speed of the Corvane S4?", answer: "vehicles-0-4"),
        Question(text: "How often should I rotate the tyres on the Altura GT?", answer: "vehicles-1-2"),
        Question(text: "Who supported the central figure of the Siege of Caldmoor?", answer: "history-2-2"),
        Question(text: "What did the Pellan Reform lead to?", answer: "history-3-3"),
        Question(text: "Where did the Great Tessaly Fire take place?", answer: "history-4-0"),
        Question(text: "Is parking free at the Copper Lantern Inn?", answer: "hotels-1-2"),
        Question(text: "Are cats allowed at Hotel Aurelius?", answer: "hotels-3-1"),
        Question(text: "How much does early check-in cost at Birchwood Retreat?", answer: "hotels-4-0"),
        Question(text: "What cuisine does the restaurant at Hotel Miravel serve in the evening?", answer: "hotels-0-3"),
    ]

    private static func pick<T>(_ values: [T], _ i: Int) -> T { values[i % values.count] }

    private static func build() -> (documents: [Document], questions: [Question]) {
        var documents: [Document] = []
        var questions: [Question] = []
        for domain in domains {
            for (i, subject) in domain.subjects.enumerated() {
                for (f, facet) in domain.facets.enumerated() {
                    let id = "\(domain.name)-\(i)-\(f)"
                    documents.append(Document(id: id, title: "\(subject): \(facet.title)", text: facet.text(i, subject), domain: domain.name))
                    if (f + i) % 5 < 3 {
                        let template = facet.questions[(i + f) % facet.questions.count]
                        questions.append(Question(text: template(i, subject), answer: id))
                    }
                    if let anonymous = facet.anonymous, (f + i) % 5 == 4 {
                        questions.append(Question(text: anonymous(i), answer: id))
                    }
                }
            }
        }
        return (documents, questions)
    }

    // MARK: Domains

    private static let domains: [Domain] = [software, cities, animals, recipes, retailers, vehicles, history, hotels]

    private static let software = Domain(name: "software", subjects: ["Zentrix", "Norvale", "Quillbase", "Trellix Hub", "Pavonia"], facets: [
        Facet(title: "Pricing and plans", text: { i, n in """
            \(n) is sold as a subscription. Each user seat is billed at $\(pick([12, 19, 29, 49, 79], i)) per month, and \
            organisations that commit to an annual contract receive a \(pick([10, 15, 20, 25, 30], i)) percent discount. \
            Invoices are issued on the first day of the billing period and can be settled by card or bank transfer.

            There is no setup charge. Seats can be added at any time and are prorated for the remainder of the month.
            """ }, questions: [
                { _, n in "How much does \(n) cost per user each month?" },
                { _, n in "Is there a reduction on \(n) if I pay yearly?" },
            ]),
        Facet(title: "Installation", text: { i, n in """
            \(n) runs on \(pick(["Windows 11 and macOS 14", "Ubuntu 22.04 and Debian 12", "macOS 13 or later", "Windows Server 2022", "any Linux with glibc 2.31"], i)). \
            It is distributed as \(pick(["an MSI package", "a .deb package", "a Homebrew cask", "a PowerShell script", "a single static binary"], i)); \
            download it from the customer portal and run it with administrator rights. The setup wizard asks for your \
            organisation key and a target folder.

            After the first launch, \(n) looks for updates on its own. Offline installs are supported by copying the \
            package and the licence file to the machine.
            """ }, questions: [
                { _, n in "Which operating systems can \(n) be deployed on?" },
                { _, n in "How do I get \(n) onto a new computer?" },
            ], anonymous: { i in "Which product is shipped as \(pick(["an MSI package", "a .deb package", "a Homebrew cask", "a PowerShell script", "a single static binary"], i))?" }),
        Facet(title: "Security and compliance", text: { i, n in """
            \(n) encrypts customer data with \(pick(["AES-256", "ChaCha20-Poly1305", "AES-128-GCM", "AES-256-GCM", "XTS-AES"], i)) at rest \
            and TLS 1.3 in transit. The service holds a \(pick(["SOC 2 Type II", "ISO 27001", "HIPAA", "FedRAMP Moderate", "PCI DSS"], i)) \
            attestation, renewed every year by an independent auditor.

            Single sign-on through SAML and two-factor authentication are available on every plan. Audit logs are \
            retained for \(pick([90, 180, 365, 400, 730], i)) days.
            """ }, questions: [
                { _, n in "Does \(n) protect stored information with encryption?" },
                { _, n in "Which compliance certifications has \(n) obtained?" },
            ], anonymous: { i in "Which service has a \(pick(["SOC 2 Type II", "ISO 27001", "HIPAA", "FedRAMP Moderate", "PCI DSS"], i)) attestation?" }),
        Facet(title: "Troubleshooting", text: { i, n in """
            If \(n) shows error \(pick(["E1042", "ERR_SYNC_TIMEOUT", "0x80070005", "QB-503", "PV-17"], i)), the client has lost its \
            connection to the synchronisation server. First confirm that outbound HTTPS traffic is allowed by your \
            firewall, then restart the client.

            If the message persists, clear the local cache folder and sign in again. The help centre answers around the clock.
            """ }, questions: [
                { i, n in "What should I do when \(n) displays \(pick(["E1042", "ERR_SYNC_TIMEOUT", "0x80070005", "QB-503", "PV-17"], i))?" },
                { _, n in "\(n) keeps failing to sync, how can I repair it?" },
            ], anonymous: { i in "What does the message \(pick(["E1042", "ERR_SYNC_TIMEOUT", "0x80070005", "QB-503", "PV-17"], i)) mean?" }),
        Facet(title: "Data export and backups", text: { i, n in """
            Administrators can export every record from \(n) as \(pick(["CSV and JSON", "Parquet", "XML", "Excel workbook", "SQL dump"], i)) \
            files from the settings page. Exports run in the background and a download link is emailed when they finish.

            Backups of each workspace are taken \(pick(["every six hours", "nightly", "hourly", "weekly", "every fifteen minutes"], i)) \
            and kept for \(pick([30, 14, 60, 90, 7], i)) days. Support can restore a backup on request.
            """ }, questions: [
                { _, n in "How frequently is my \(n) workspace backed up?" },
                { _, n in "In which format can I download my information out of \(n)?" },
            ]),
    ])

    private static let cities = Domain(name: "cities", subjects: ["Marrowick", "Solbrenna", "Quennport", "Ardhaven", "Tolvik"], facets: [
        Facet(title: "History", text: { i, n in """
            \(n) was founded in \(pick([1142, 1287, 1356, 1410, 1533], i)) by \(pick(["Flemish weavers", "Benedictine monks", "salt merchants", "a Norse chieftain", "Hanseatic traders"], i)) \
            on the banks of the \(pick(["Varne", "Ostra", "Quell", "Ardle", "Tolva"], i)) river. It grew wealthy from the \
            \(pick(["wool trade", "wine trade", "herring fishery", "silver mines", "timber trade"], i)) and received its town charter \
            in \(pick([1201, 1322, 1402, 1466, 1580], i)).

            The old quarter still has the \(pick(["cloth hall", "abbey church", "harbour tower", "mint house", "guild hall"], i)) built during that period.
            """ }, questions: [
                { _, n in "When was \(n) established and who started it?" },
                { _, n in "Which river flows through \(n)?" },
            ], anonymous: { i in "Which town became rich through the \(pick(["wool trade", "wine trade", "herring fishery", "silver mines", "timber trade"], i))?" }),
        Facet(title: "Climate", text: { i, n in """
            \(n) has a \(pick(["maritime", "continental", "Mediterranean", "subarctic", "humid subtropical"], i)) climate. Summers are \
            \(pick(["mild", "hot and dry", "warm", "short and cool", "humid"], i)) with average highs of \(pick([21, 31, 27, 16, 33], i)) degrees, \
            while winters are \(pick(["wet and grey", "bitterly cold", "mild and rainy", "long and snowy", "short"], i)). Most precipitation \
            falls in \(pick(["November", "May", "December", "August", "July"], i)).

            Visitors are advised to pack \(pick(["a waterproof jacket", "warm layers", "sun cream", "thermal boots", "an umbrella"], i)).
            """ }, questions: [
                { _, n in "What is the weather usually like in \(n)?" },
                { _, n in "In which month does \(n) get the most rain?" },
            ]),
        Facet(title: "Getting around", text: { i, n in """
            \(n) is served by \(pick(["two tram lines and a night bus", "a metro with three lines", "harbour ferries and buses", "a single funicular and buses", "a light rail loop"], i)). \
            A single ticket costs \(pick(["2.10", "1.80", "3.00", "2.50", "1.60"], i)) euros and is valid for \(pick([60, 90, 75, 45, 120], i)) minutes.

            The nearest airport is \(pick([12, 35, 8, 54, 22], i)) kilometres away and is connected to the centre by an express coach.
            """ }, questions: [
                { _, n in "How can I travel around \(n) by public transit?" },
                { _, n in "How far is the airport from \(n)?" },
            ]),
        Facet(title: "Food and markets", text: { i, n in """
            The cuisine of \(n) is known for \(pick(["smoked eel pie", "saffron rice with clams", "barley dumplings", "reindeer stew", "spiced lamb skewers"], i)), \
            a dish traditionally cooked for guests. Local markets open every \(pick(["Saturday", "Wednesday", "Friday", "Tuesday", "Sunday"], i)) morning \
            on the main square.

            A traditional dessert is \(pick(["honey cake", "almond custard", "plum dumplings", "cloudberry cream", "fig pastries"], i)), usually served during the harvest festival.
            """ }, questions: [
                { _, n in "What meal is \(n) famous for?" },
                { _, n in "On which day can I shop at the market in \(n)?" },
            ], anonymous: { i in "Where do people eat \(pick(["smoked eel pie", "saffron rice with clams", "barley dumplings", "reindeer stew", "spiced lamb skewers"], i))?" }),
        Facet(title: "Population and economy", text: { i, n in """
            \(n) has about \(pick(["84,000", "212,000", "47,500", "1.3 million", "19,800"], i)) inhabitants. The largest employers are \
            \(pick(["the port and a shipyard", "vineyards and tourism", "a car factory", "software firms", "the regional hospital"], i)), and unemployment stands at \
            \(pick([4.2, 6.8, 3.1, 9.5, 5.0], i)) percent.

            Its university enrols \(pick(["12,000", "31,000", "6,500", "48,000", "3,200"], i)) students.
            """ }, questions: [
                { _, n in "How many people live in \(n)?" },
                { _, n in "Who are the biggest employers in \(n)?" },
            ]),
    ])

    private static let animals = Domain(name: "animals", subjects: ["velvet shrike", "amber newt", "crested lorikin", "silver tapirine", "marsh hopper"], facets: [
        Facet(title: "Habitat", text: { i, n in """
            The \(n) lives in \(pick(["dry thornbush", "cold mountain streams", "lowland rainforest", "cloud forest", "reed beds"], i)) of \
            \(pick(["southern Namibia", "the Carpathians", "Borneo", "the Andes", "the Danube delta"], i)), usually at altitudes between \
            \(pick([200, 800, 50, 1800, 0], i)) and \(pick([900, 2100, 600, 3200, 150], i)) metres. It shelters in \
            \(pick(["abandoned burrows", "rock crevices", "tree hollows", "dense moss", "floating vegetation"], i)) during the day.
            """ }, questions: [
                { _, n in "Where can the \(n) be found in the wild?" },
                { _, n in "At what elevation does the \(n) occur?" },
            ]),
        Facet(title: "Diet", text: { i, n in """
            The \(n) feeds mainly on \(pick(["beetles and grasshoppers", "mayfly larvae", "nectar and pollen", "fallen fruit and leaves", "snails and small fish"], i)), \
            supplemented by \(pick(["lizards", "worms", "soft fruit", "bark", "frog spawn"], i)) in winter. An adult needs roughly \
            \(pick([40, 3, 25, 900, 60], i)) grams of food a day and forages \(pick(["at dawn", "at night", "around midday", "in the evening", "all day"], i)).
            """ }, questions: [
                { _, n in "What kind of food does the \(n) eat?" },
                { _, n in "How much does an adult \(n) consume daily?" },
            ], anonymous: { i in "Which animal lives on \(pick(["beetles and grasshoppers", "mayfly larvae", "nectar and pollen", "fallen fruit and leaves", "snails and small fish"], i))?" }),
        Facet(title: "Lifespan and size", text: { i, n in """
            In the wild the \(n) lives for about \(pick([6, 12, 9, 25, 3], i)) years; in captivity individuals have reached \
            \(pick([11, 20, 17, 38, 6], i)). Adults weigh between \(pick([45, 8, 90, 150000, 30], i)) and \(pick([70, 15, 130, 260000, 55], i)) grams.
            """ }, questions: [
                { _, n in "How many years does a \(n) survive?" },
                { _, n in "How heavy is a grown \(n)?" },
            ]),
        Facet(title: "Breeding", text: { i, n in """
            The \(n) breeds in \(pick(["the rainy season", "early spring", "late summer", "the dry season", "April and May"], i)). Females lay \
            \(pick(["three to five", "up to forty", "two", "a single", "six to eight"], i)) eggs in a nest of \
            \(pick(["thorny twigs", "submerged leaves", "chewed wood", "grass and mud", "woven reeds"], i)), and both parents feed the young for \
            \(pick([3, 0, 7, 12, 4], i)) weeks.
            """ }, questions: [
                { _, n in "When does the \(n) reproduce?" },
                { _, n in "How many eggs does a female \(n) produce?" },
            ]),
        Facet(title: "Conservation", text: { i, n in """
            The \(n) is listed as \(pick(["Least Concern", "Vulnerable", "Endangered", "Critically Endangered", "Near Threatened"], i)) by the IUCN. \
            Its population has \(pick(["stayed stable", "fallen by a third", "halved", "collapsed", "declined slowly"], i)) over the past twenty years because of \
            \(pick(["overgrazing", "water pollution", "logging", "hunting", "wetland drainage"], i)). Protected areas now cover much of its range.
            """ }, questions: [
                { _, n in "Is the \(n) at risk of extinction?" },
                { _, n in "What dangers does the \(n) face?" },
            ]),
    ])

    private static let recipes = Domain(name: "recipes", subjects: ["harvest barley stew", "lemon thyme focaccia", "smoked paprika lentils", "cardamom rice pudding", "juniper braised beef"], facets: [
        Facet(title: "Ingredients", text: { i, n in """
            To make \(n) for four people you need \(pick(["pearl barley, carrots, leeks and vegetable stock", "bread flour, yeast, olive oil, lemon zest and fresh thyme", "brown lentils, onions, smoked paprika and crushed tomatoes", "short-grain rice, whole milk, sugar and green cardamom pods", "beef shin, red wine, juniper berries and shallots"], i)). \
            Season with salt and pepper to taste.
            """ }, questions: [
                { _, n in "What do I have to buy to cook \(n)?" },
            ]),
        Facet(title: "Method", text: { i, n in """
            For \(n), start by \(pick(["softening the leeks in butter", "mixing the dough and letting it rise for an hour", "frying the onions until golden", "rinsing the rice", "browning the meat in batches"], i)). \
            Then \(pick(["add the barley and stock", "press dimples into the dough and drizzle with oil", "stir in the spices and lentils", "simmer it slowly in the milk", "deglaze the pan with wine"], i)). \
            Finally \(pick(["simmer until thick", "bake until golden", "cook until soft", "fold in the cardamom", "braise gently"], i)) and serve.
            """ }, questions: [
                { _, n in "What are the stages of preparing \(n)?" },
            ]),
        Facet(title: "Cooking time and temperature", text: { i, n in """
            \(n) takes about \(pick([20, 90, 15, 10, 30], i)) minutes of preparation and \(pick([45, 25, 35, 50, 180], i)) minutes of cooking \
            at \(pick([180, 220, 170, 150, 160], i)) degrees Celsius.
            """ }, questions: [
                { _, n in "How long must \(n) stay in the oven?" },
                { _, n in "What oven heat should I use for \(n)?" },
            ]),
        Facet(title: "Storage", text: { i, n in """
            Leftover \(n) keeps in the refrigerator for \(pick([3, 2, 4, 2, 5], i)) days in an airtight container. It can be frozen for up to \
            \(pick([3, 1, 6, 0, 4], i)) months; thaw it overnight before reheating.
            """ }, questions: [
                { _, n in "How long can I keep \(n) in the fridge?" },
                { _, n in "Can \(n) go in the freezer?" },
            ]),
        Facet(title: "Nutrition", text: { i, n in """
            One serving of \(n) provides \(pick([410, 290, 350, 320, 560], i)) kilocalories, \(pick([12, 8, 19, 9, 41], i)) grams of protein and \
            \(pick([9, 2, 14, 1, 3], i)) grams of fibre. It is \(pick(["vegetarian", "vegan", "vegan and gluten-free", "vegetarian", "gluten-free"], i)).
            """ }, questions: [
                { _, n in "How many calories are in a portion of \(n)?" },
                { _, n in "Is \(n) suitable for vegetarians, and how much protein does it have?" },
            ]),
    ])

    private static let retailers = Domain(name: "retailers", subjects: ["Brightwell Outfitters", "Kestrel Electronics", "Larkspur Home", "Orchard & Pine", "Solace Audio"], facets: [
        Facet(title: "Returns and refunds", text: { i, n in """
            \(n) accepts returns within \(pick([30, 14, 60, 28, 100], i)) days of delivery. Items must be unused and in their original packaging.

            Refunds go back to the original payment method within \(pick([5, 10, 3, 7, 14], i)) business days after the parcel arrives at our warehouse.
            """ }, questions: [
                { _, n in "How much time do I have to send a purchase back to \(n)?" },
                { _, n in "When will \(n) reimburse me after I return something?" },
            ]),
        Facet(title: "Shipping", text: { i, n in """
            \(n) ships to \(pick(["all EU countries", "the UK and Ireland", "North America", "Scandinavia", "Germany, Austria and Switzerland"], i)). \
            Standard delivery takes \(pick(["3-5", "2-4", "5-7", "1-3", "4-6"], i)) working days and costs \(pick(["4.95", "3.50", "6.00", "2.90", "5.50"], i)) euros; \
            express parcels arrive the next day. Orders above \(pick([50, 75, 100, 40, 60], i)) euros are sent free of charge.
            """ }, questions: [
                { _, n in "How many days until an order from \(n) reaches me?" },
                { _, n in "Does \(n) charge for delivery?" },
            ], anonymous: { i in "Which shop sends parcels to \(pick(["all EU countries", "the UK and Ireland", "North America", "Scandinavia", "Germany, Austria and Switzerland"], i))?" }),
        Facet(title: "Warranty", text: { i, n in """
            All \(n) products carry a \(pick([2, 3, 1, 5, 2], i))-year warranty against manufacturing defects. To make a claim, contact support \
            with your order number and a photo of the fault; approved claims are repaired or replaced free of charge.
            """ }, questions: [
                { _, n in "How long is the guarantee on \(n) products?" },
                { _, n in "How do I report a defective item bought from \(n)?" },
            ]),
        Facet(title: "Privacy", text: { i, n in """
            \(n) stores customer data in \(pick(["Frankfurt", "Dublin", "Montreal", "Stockholm", "Zurich"], i)) data centres and never sells personal \
            information. You can request a copy of your data, or its deletion, by writing to the data protection officer.
            """ }, questions: [
                { _, n in "Does \(n) sell my personal details to third parties?" },
                { _, n in "How can I ask \(n) to erase my information?" },
            ]),
        Facet(title: "Careers", text: { i, n in """
            \(n) employs \(pick([240, 1900, 85, 610, 45], i)) people across \(pick([6, 22, 2, 9, 1], i)) offices. Open positions are published on the \
            careers page, and candidates go through \(pick([3, 4, 2, 3, 2], i)) interview rounds. Staff receive \(pick([28, 25, 30, 26, 32], i)) days of paid leave a year.
            """ }, questions: [
                { _, n in "How many workers does \(n) have?" },
                { _, n in "What is the hiring process like at \(n)?" },
            ]),
    ])

    private static let vehicles = Domain(name: "vehicles", subjects: ["Corvane S4", "Altura GT", "Meridian EV", "Brisk 200", "Halden Cargo"], facets: [
        Facet(title: "Range and consumption", text: { i, n in """
            The \(n) runs on \(pick(["petrol", "premium petrol", "electricity", "diesel", "compressed natural gas"], i)) and covers about \
            \(pick([720, 610, 480, 950, 540], i)) kilometres on a full tank or charge. Average consumption is \
            \(pick(["5.9 litres", "8.1 litres", "16 kWh", "4.7 litres", "4.2 kilograms"], i)) per 100 kilometres.
            """ }, questions: [
                { _, n in "How far can the \(n) go before it needs refuelling?" },
                { _, n in "How economical is the \(n)?" },
            ]),
        Facet(title: "Safety", text: { i, n in """
            The \(n) received a \(pick([5, 4, 5, 3, 4], i))-star rating in independent crash tests. Standard equipment includes \
            \(pick([6, 8, 7, 4, 6], i)) airbags, automatic emergency braking and lane keeping assistance.
            """ }, questions: [
                { _, n in "How well does the \(n) protect passengers in a collision?" },
                { _, n in "How many airbags come with the \(n)?" },
            ]),
        Facet(title: "Maintenance", text: { i, n in """
            The \(n) needs a service every \(pick(["15,000", "20,000", "30,000", "10,000", "25,000"], i)) kilometres or once a year, whichever comes \
            first. Tyres should be rotated every \(pick(["10,000", "8,000", "12,000", "7,500", "9,000"], i)) kilometres, and the brake fluid replaced every \
            \(pick([2, 2, 3, 2, 4], i)) years.
            """ }, questions: [
                { _, n in "How often does the \(n) have to go to the garage for servicing?" },
                { _, n in "When should the brake fluid of the \(n) be changed?" },
            ]),
        Facet(title: "Price and financing", text: { i, n in """
            The \(n) starts at \(pick(["31,900", "58,400", "44,200", "17,990", "39,500"], i)) euros including tax. The premium trim adds leather \
            seats and a panoramic roof for \(pick(["4,500", "6,900", "3,800", "2,100", "5,200"], i)) euros more. Financing is available over \
            \(pick([48, 60, 36, 72, 48], i)) months.
            """ }, questions: [
                { _, n in "What does a new \(n) cost?" },
                { _, n in "Can I purchase the \(n) with monthly payments?" },
            ]),
        Facet(title: "Performance", text: { i, n in """
            The \(n) is powered by \(pick(["a 2.0-litre turbo engine", "a 3.0-litre V6", "two electric motors", "a 1.2-litre three-cylinder engine", "a 2.2-litre turbodiesel"], i)) \
            producing \(pick([190, 380, 310, 110, 165], i)) horsepower. It accelerates from 0 to 100 km/h in \(pick(["7.4", "4.6", "5.1", "11.2", "10.4"], i)) \
            seconds and reaches a top speed of \(pick([230, 270, 200, 180, 170], i)) km/h.
            """ }, questions: [
                { _, n in "How quick is the \(n)?" },
                { _, n in "What motor does the \(n) have?" },
            ], anonymous: { i in "Which car has \(pick(["a 2.0-litre turbo engine", "a 3.0-litre V6", "two electric motors", "a 1.2-litre three-cylinder engine", "a 2.2-litre turbodiesel"], i))?" }),
    ])

    private static let history = Domain(name: "history", subjects: ["the Treaty of Orlaine", "the Varnholt Accord", "the Siege of Caldmoor", "the Pellan Reform", "the Great Tessaly Fire"], facets: [
        Facet(title: "Date and setting", text: { i, n in """
            \(n.prefix(1).uppercased() + n.dropFirst()) took place in \(pick([1648, 1712, 1389, 1834, 1666], i)), during the reign of \
            \(pick(["Queen Ysolde II", "King Harald the Mild", "Duke Amaury", "Emperor Lothar IV", "the regent Maren"], i)), in what is now \
            \(pick(["northern France", "the Low Countries", "the Scottish borders", "Bohemia", "southern Italy"], i)).
            """ }, questions: [
                { _, n in "In what year did \(n) happen?" },
                { _, n in "Who was on the throne at the time of \(n)?" },
            ]),
        Facet(title: "Causes", text: { i, n in """
            \(n.prefix(1).uppercased() + n.dropFirst()) was triggered by \(pick(["a dispute over river tolls", "a contested royal succession", "a famine after three failed harvests", "the bankruptcy of the treasury", "a bakery oven left burning overnight"], i)). \
            Tensions had been building since \(pick(["the border war of 1631", "the death of the old king", "the plague years", "a failed loan from Genoese bankers", "a dry summer"], i)).
            """ }, questions: [
                { _, n in "What caused \(n)?" },
                { _, n in "Why did \(n) come about?" },
            ]),
        Facet(title: "Key figures", text: { i, n in """
            The central figure of \(n) was \(pick(["the diplomat Ansel Vire", "Chancellor Odile Marchet", "Captain Roderick Hale", "the minister Pellan himself", "the fire warden Jonas Brill"], i)), \
            supported by \(pick(["the Bishop of Orlaine", "the merchant guilds", "the garrison commander", "a circle of young lawyers", "the city aldermen"], i)).
            """ }, questions: [
                { _, n in "Who was the main person behind \(n)?" },
            ]),
        Facet(title: "Outcome", text: { i, n in """
            \(n.prefix(1).uppercased() + n.dropFirst()) ended with \(pick(["the river opened to all shipping", "a shared regency council", "the surrender of the castle", "a new tax code", "a third of the city in ashes"], i)). \
            As a result, \(pick(["trade doubled within a decade", "the two houses were united by marriage", "the border moved north", "the nobility lost its exemptions", "the city was rebuilt in stone"], i)).
            """ }, questions: [
                { _, n in "What were the consequences of \(n)?" },
                { _, n in "How did \(n) end?" },
            ]),
        Facet(title: "Legacy", text: { i, n in """
            Today \(n) is remembered with \(pick(["an annual river parade", "a bronze statue in the capital", "a ruined tower open to visitors", "a public holiday", "a memorial column"], i)). \
            Historians consider it \(pick(["the start of modern free trade", "a model of peaceful compromise", "the last great medieval siege", "the birth of the modern civil service", "the reason for today's building codes"], i)).
            """ }, questions: [
                { _, n in "How is \(n) commemorated today?" },
                { _, n in "Why do historians think \(n) matters?" },
            ], anonymous: { i in "Which event is marked by \(pick(["an annual river parade", "a bronze statue in the capital", "a ruined tower open to visitors", "a public holiday", "a memorial column"], i))?" }),
    ])

    private static let hotels = Domain(name: "hotels", subjects: ["Hotel Miravel", "the Copper Lantern Inn", "Seaview Lodge Kalmar", "Hotel Aurelius", "Birchwood Retreat"], facets: [
        Facet(title: "Check-in and check-out", text: { i, n in """
            Check-in at \(n) starts at \(pick(["15:00", "14:00", "16:00", "15:00", "13:00"], i)) and rooms must be vacated by \
            \(pick(["11:00", "10:30", "12:00", "11:00", "10:00"], i)). An early arrival can be arranged for a fee of \(pick([25, 20, 30, 40, 15], i)) euros.
            """ }, questions: [
                { _, n in "From what time can I get my room at \(n)?" },
                { _, n in "By when do I have to leave my room at \(n)?" },
            ]),
        Facet(title: "Pets", text: { i, n in """
            \(n.prefix(1).uppercased() + n.dropFirst()) \(pick(["welcomes dogs for 15 euros per night", "does not accept animals, except assistance dogs", "welcomes dogs and cats free of charge", "accepts one small dog per room for 20 euros per night", "has kennels in the garden for guests' dogs"], i)). \
            Animals must not be left alone in the rooms.
            """ }, questions: [
                { _, n in "Can I bring my dog to \(n)?" },
            ]),
        Facet(title: "Parking", text: { i, n in """
            \(n.prefix(1).uppercased() + n.dropFirst()) has \(pick([40, 12, 80, 25, 60], i)) parking spaces, which cost \(pick([18, 0, 12, 24, 0], i)) euros per day. \
            \(pick(["Four", "Two", "Six", "Eight", "Three"], i)) chargers for electric cars are available on request.
            """ }, questions: [
                { _, n in "Where can I leave my vehicle when I stay at \(n)?" },
                { _, n in "Can I charge an electric car at \(n)?" },
            ]),
        Facet(title: "Breakfast and restaurant", text: { i, n in """
            Breakfast at \(n) is served from \(pick(["7:00", "6:30", "7:30", "7:00", "8:00"], i)) to \(pick(["10:30", "10:00", "11:00", "10:00", "11:00"], i)). \
            In the evening the restaurant serves \(pick(["regional dishes", "grilled seafood", "Swedish home cooking", "Italian fine dining", "a vegetarian tasting menu"], i)).
            """ }, questions: [
                { _, n in "What time is the morning buffet at \(n)?" },
                { _, n in "What kind of dinner can I have at \(n)?" },
            ]),
        Facet(title: "Cancellation", text: { i, n in """
            Bookings at \(n) can be cancelled free of charge until \(pick([48, 24, 72, 48, 168], i)) hours before arrival. Later cancellations and \
            no-shows are charged the first night.
            """ }, questions: [
                { _, n in "Until when can I call off my reservation at \(n) without paying?" },
            ]),
    ])
}
