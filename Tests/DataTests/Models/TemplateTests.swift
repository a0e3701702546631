// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import DataPlatform
import Foundation
import Storage
import Testing

/// Renders `sql` as the model `m` of a project that also has models `a` and `b`.
private func render(_ sql: String, vars: [String: TemplateValue] = [:], incremental: Bool = false,
                    dialect: SQLDialect = .sqlite, projectYAML: String? = nil) throws -> String {
    let folder = try ModelsProjectFolder(projectYAML: projectYAML, files: [
        "models/a.sql": "select 1 as id", "models/b.sql": "select 2 as id", "models/m.sql": sql,
    ])
    defer { folder.remove() }
    let project = try DataProject(directory: folder.url)
    return try project.render(project.models["m"]!, dialect: dialect, incremental: incremental, vars: vars).sql
}

private func squeeze(_ text: String) -> String {
    text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
}

@Suite("Jinja subset")
struct TemplateTests {
    @Test func refSourceAndThis() throws {
        let sql = try render("select * from {{ ref('a') }} join {{ source('raw', 'orders') }} on 1 = 1 -- {{ this }}")
        #expect(sql == "select * from data_model_a join data_raw_orders on 1 = 1 -- data_model_m")
    }

    @Test func configSetsMaterialisationAndRendersNothing() throws {
        let folder = try ModelsProjectFolder(files: [
            "models/m.sql": "{{ config(materialized='incremental', unique_key=['id', 'day']) }}\nselect 1 as id",
        ])
        defer { folder.remove() }
        let project = try DataProject(directory: folder.url)
        let rendered = try project.render(project.models["m"]!, dialect: .sqlite, incremental: false, vars: [:])
        #expect(rendered.sql == "select 1 as id")
        #expect(rendered.model.materialization == .incremental)
        #expect(rendered.model.uniqueKey == ["id", "day"])
    }

    @Test func varsFromProjectCallerAndDefault() throws {
        let yaml = """
            name: 'p'
            vars:
              country: 'NL'
              limit: 10
            """
        #expect(try render("{{ var('country') }} {{ var('limit') + 5 }} {{ var('missing', 'dflt') }}", projectYAML: yaml) == "NL 15 dflt")
        #expect(try render("{{ var('country') }}", vars: ["country": .string("BE")], projectYAML: yaml) == "BE")
        #expect(throws: TemplateError.self) { try render("{{ var('nope') }}") }
    }

    @Test func setWithStringsNumbersAndLists() throws {
        let sql = try render("""
            {% set name = 'total' %}{% set n = 3 %}{% set methods = ['card', 'cash'] %}
            {{ name }} {{ n * 2 }} {{ methods | join(',') }} {{ methods | length }} {{ methods[0] | upper }}
            """)
        #expect(squeeze(sql) == "total 6 card,cash 2 CARD")
    }

    @Test func setBlockCapturesText() throws {
        #expect(try render("{% set cols %}a, b{% endset %}select {{ cols }}") == "select a, b")
    }

    @Test func forLoopWithLoopFirstAndLast() throws {
        let sql = try render("""
            select
            {%- for m in ['card', 'cash', 'voucher'] %}
              sum(case when method = '{{ m }}' then amount end) as {{ m }}_amount{% if not loop.last %},{% endif %}
            {%- endfor %}
            from t
            """)
        #expect(squeeze(sql) == "select sum(case when method = 'card' then amount end) as card_amount, "
                + "sum(case when method = 'cash' then amount end) as cash_amount, "
                + "sum(case when method = 'voucher' then amount end) as voucher_amount from t")
        #expect(try render("{% for x in [1,2,3] %}{% if loop.first %}[{% endif %}{{ loop.index }}{% endfor %}") == "[123")
        #expect(try render("{% for x in [] %}{{ x }}{% else %}empty{% endfor %}") == "empty")
        let pairs = try render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}end")
        #expect(pairs == "a=1;b=2;end", "\(pairs)")
    }

    @Test func ifElifElseWithComparisonsAndLogic() throws {
        let template = """
            {% if n > 10 and not flag %}big{% elif n == 5 or n in [6, 7] %}mid{% else %}small{% endif %}
            """
        #expect(try render("{% set n = 20 %}{% set flag = false %}" + template) == "big")
        #expect(try render("{% set n = 20 %}{% set flag = true %}" + template) == "small")
        #expect(try render("{% set n = 6 %}{% set flag = false %}" + template) == "mid")
        #expect(try render("{% set n = 5 %}{% set flag = false %}" + template) == "mid")
        #expect(try render("{% if 'b' in 'abc' and 'z' not in ['x'] and 3 != 4 and 2 <= 2 %}yes{% endif %}") == "yes")
        #expect(try render("{% if x is defined %}d{% else %}u{% endif %}{% if none is none %}n{% endif %}") == "un")
    }

    @Test func isIncrementalAndTargetType() throws {
        let sql = "select * from t{% if is_incremental() %} where id > (select max(id) from {{ this }}){% endif %}"
        #expect(try render(sql) == "select * from t")
        #expect(try render(sql, incremental: true) == "select * from t where id > (select max(id) from data_model_m)")
        #expect(try render("{{ target.type }}", dialect: .postgres) == "postgres")
        #expect(try render("{% if target.type == 'sqlite' %}s{% else %}o{% endif %}") == "s")
    }

    @Test func commentsAndWhitespaceControl() throws {
        #expect(try render("a {# a comment {{ ref('nope') }} #}b") == "a b")
        #expect(try render("a   {{- 'x' -}}   b") == "axb")
        #expect(try render("a\n  {%- if true -%}\n  x\n  {%- endif -%}\n b") == "axb")
        #expect(try render("a\n{% if true %}x{% endif %}\nb") == "a\nx\nb")
    }

    @Test func filtersAndStringConcatenation() throws {
        #expect(try render("{{ 'Abc' | lower }}{{ 'abc' | upper }}{{ ['x', 'y'] | join('-') }}{{ 'a' ~ 1 }}{{ none | default('d') }}")
                == "abcABCx-ya1d")
        #expect(try render("{{ ' pad ' | trim | replace('a', 'o') }}") == "pod")
    }

    @Test func printsValuesAsPython() throws {
        #expect(try render("{{ [1, 'a', true, none, 2.0] }}") == "[1, 'a', True, None, 2.0]")
    }

    @Test func unsupportedTagNamesFileAndLine() throws {
        do {
            _ = try render("select 1\nfrom t\n{% macro x() %}{% endmacro %}")
            Issue.record("expected an error")
        } catch let error as TemplateError {
            #expect(error.file == "models/m.sql")
            #expect(error.line == 3)
            #expect(error.description.hasPrefix("models/m.sql:3: unsupported tag 'macro'"))
        }
    }

    @Test func badJinjaErrorsNameFileAndLine() throws {
        let cases: [(String, Int, String)] = [
            ("select\n{{ ref('a') ", 2, "has no closing"),
            ("select\n\n{% if x %}oops", 3, "has no '{% endif %}'"),
            ("select {{ undefined_thing }}", 1, "'undefined_thing' is undefined"),
            ("select\n{{ run_query('select 1') }}", 2, "unsupported function 'run_query'"),
            ("{% endfor %}", 1, "without a matching opening tag"),
            ("a\nb\n{{ 'x' | wordcount }}", 3, "unsupported filter 'wordcount'"),
            ("{{ 1 + }}", 1, "expected a value"),
        ]
        for (sql, line, fragment) in cases {
            do {
                _ = try render(sql)
                Issue.record("expected an error for \(sql)")
            } catch let error as TemplateError {
                #expect(error.line == line, "\(sql): \(error)")
                #expect(error.description.contains(fragment), "\(sql): \(error)")
                #expect(error.file == "models/m.sql")
            }
        }
    }

    @Test func refToUnknownModelFailsAtLoad() throws {
        let folder = try ModelsProjectFolder(files: ["models/m.sql": "select * from {{ ref('ghost') }}"])
        defer { folder.remove() }
        let project = try DataProject(directory: folder.url)
        #expect(throws: DataProjectError.self) { try ModelGraph(project: project) }
    }
}
