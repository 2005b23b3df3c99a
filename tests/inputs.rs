//! Hostile inputs, everywhere the schema takes text: the test reads the served schema by
//! introspection, then sends a NUL character, a 50,000-character text and a text longer than
//! any bound to every `String`, `ID` and custom-scalar argument and input field (filters,
//! nested inputs and lists included) of every query and mutation, as every role. No answer may
//! be INTERNAL_SERVER_ERROR or HTTP 500; NUL and the over-long text are BAD_USER_INPUT naming
//! the field. Out-of-range dates and numbers too.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::common::fixtures::{PASSWORD, World};
use crate::common::{TestApp, codes};

const INTROSPECTION: &str = "{ __schema { queryType { name } mutationType { name }
  types { kind name
    fields { name args { name type { ...T } } type { ...T } }
    inputFields { name type { ...T } } enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// The marker a generated value carries where the hostile text goes.
const SLOT: &str = "\u{1}slot";

/// The schema's types by name, as introspection gave them.
struct Types(HashMap<String, Value>);

impl Types {
    fn get(&self, name: &str) -> &Value {
        &self.0[name]
    }
}

/// A type reference as GraphQL writes it (`[String!]!`), for variable declarations.
fn type_string(t: &Value) -> String {
    match t["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_string(&t["ofType"])),
        Some("LIST") => format!("[{}]", type_string(&t["ofType"])),
        _ => t["name"].as_str().expect("named").to_owned(),
    }
}

fn named(t: &Value) -> &Value {
    match t["kind"].as_str() {
        Some("NON_NULL") | Some("LIST") => named(&t["ofType"]),
        _ => t,
    }
}

/// A valid-looking value of a type, for the positions the test does not aim at.
fn sample(types: &Types, t: &Value, depth: usize) -> Value {
    match t["kind"].as_str() {
        Some("NON_NULL") => sample(types, &t["ofType"], depth),
        Some("LIST") => json!([sample(types, &t["ofType"], depth)]),
        Some("ENUM") => {
            let name = t["name"].as_str().expect("enum");
            types.get(name)["enumValues"][0]["name"].clone()
        }
        Some("INPUT_OBJECT") => {
            let name = t["name"].as_str().expect("input");
            let mut obj = serde_json::Map::new();
            if depth < 5 {
                for f in types.get(name)["inputFields"].as_array().expect("fields") {
                    if f["type"]["kind"] == "NON_NULL" {
                        obj.insert(
                            f["name"].as_str().expect("name").to_owned(),
                            sample(types, &f["type"], depth + 1),
                        );
                    }
                }
            }
            Value::Object(obj)
        }
        _ => match t["name"].as_str() {
            Some("Int") => json!(1),
            Some("Float") => json!(1.0),
            Some("Boolean") => json!(true),
            Some("Date") => json!("2026-01-01"),
            Some("DateTime") => json!("2026-01-01T00:00:00Z"),
            Some("Decimal") => json!("1"),
            Some("CountryCode") => json!("DE"),
            _ => json!("x"),
        },
    }
}

/// Which scalars carry text (and so get the hostile values).
fn is_text(name: &str) -> bool {
    !matches!(name, "Int" | "Float" | "Boolean")
}

/// Every way to put [`SLOT`] at one text position of a value of type `t` (the rest sampled):
/// one value per reachable `String`, `ID` or custom-scalar leaf, optional fields included.
fn slots(types: &Types, t: &Value, depth: usize) -> Vec<Value> {
    match t["kind"].as_str() {
        Some("NON_NULL") => slots(types, &t["ofType"], depth),
        Some("LIST") => slots(types, &t["ofType"], depth)
            .into_iter()
            .map(|v| json!([v]))
            .collect(),
        Some("SCALAR") if is_text(t["name"].as_str().unwrap_or("")) => vec![json!(SLOT)],
        Some("INPUT_OBJECT") if depth < 5 => {
            let name = t["name"].as_str().expect("input");
            let base = sample(types, t, depth);
            let mut out = Vec::new();
            for f in types.get(name)["inputFields"].as_array().expect("fields") {
                for v in slots(types, &f["type"], depth + 1) {
                    let mut obj = base.clone();
                    obj[f["name"].as_str().expect("name")] = v;
                    out.push(obj);
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Puts `text` where the slot is.
fn fill(v: &Value, text: &str) -> Value {
    match v {
        Value::String(s) if s == SLOT => json!(text),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, text)).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, x)| (k.clone(), fill(x, text))).collect())
        }
        other => other.clone(),
    }
}

/// One generated operation: its text and its variables with the slot in one of them.
struct Probe {
    label: String,
    query: String,
    variables: Value,
}

/// Every probe of the schema: each root field of Query and Mutation, once per text position
/// of its arguments.
fn probes(schema: &Value) -> Vec<Probe> {
    let types = Types(
        schema["types"]
            .as_array()
            .expect("types")
            .iter()
            .map(|t| (t["name"].as_str().expect("name").to_owned(), t.clone()))
            .collect(),
    );
    let mut out = Vec::new();
    for (keyword, root) in [
        ("query", schema["queryType"]["name"].as_str()),
        ("mutation", schema["mutationType"]["name"].as_str()),
    ] {
        let Some(root) = root else { continue };
        for field in types.get(root)["fields"].as_array().expect("fields") {
            let name = field["name"].as_str().expect("name");
            let args = field["args"].as_array().expect("args");
            let ret = named(&field["type"]);
            let selection = match ret["kind"].as_str() {
                Some("SCALAR") | Some("ENUM") => "",
                _ => " { __typename }",
            };
            let declared: Vec<String> = args
                .iter()
                .map(|a| {
                    format!(
                        "${}: {}",
                        a["name"].as_str().expect("arg"),
                        type_string(&a["type"])
                    )
                })
                .collect();
            let passed: Vec<String> = args
                .iter()
                .map(|a| format!("{0}: ${0}", a["name"].as_str().expect("arg")))
                .collect();
            let query = if args.is_empty() {
                format!("{keyword} {{ {name}{selection} }}")
            } else {
                format!(
                    "{keyword}({}) {{ {name}({}){selection} }}",
                    declared.join(", "),
                    passed.join(", ")
                )
            };
            let base: serde_json::Map<String, Value> = args
                .iter()
                .filter(|a| a["type"]["kind"] == "NON_NULL")
                .map(|a| {
                    (
                        a["name"].as_str().expect("arg").to_owned(),
                        sample(&types, &a["type"], 0),
                    )
                })
                .collect();
            for a in args {
                let arg = a["name"].as_str().expect("arg");
                for v in slots(&types, &a["type"], 0) {
                    let mut variables = base.clone();
                    variables.insert(arg.to_owned(), v.clone());
                    out.push(Probe {
                        label: format!("{name}({arg}: {v})"),
                        query: query.clone(),
                        variables: Value::Object(variables),
                    });
                }
            }
        }
    }
    out
}

/// Sends one operation and checks that it was not an internal error; returns the codes.
async fn send(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    variables: &Value,
    label: &str,
) -> Vec<String> {
    let (status, body) = app.gql_as(token, query, variables.clone()).await;
    assert_ne!(status, 500, "{label}: {body}");
    let codes = codes(&body);
    assert!(
        !codes.iter().any(|c| c == "INTERNAL_SERVER_ERROR"),
        "{label}: {body}"
    );
    assert!(
        body.is_object(),
        "{label}: not a GraphQL response (status {status})"
    );
    codes
}

both!(
    no_hostile_text_reaches_the_database,
    |app: TestApp| async move {
        World::build(&app).await;
        let emails = [
            None,
            Some("coordinator@test.example"),
            Some("partner@test.example"),
            Some("mentor@test.example"),
            Some("kiel@test.example"),
        ];
        let mut tokens: Vec<Option<String>> = Vec::new();
        for email in emails {
            tokens.push(match email {
                Some(e) => Some(app.login(e, PASSWORD).await),
                None => None,
            });
        }
        let schema = app
            .gql(tokens[1].as_deref(), INTROSPECTION, json!({}))
            .await;
        let probes = probes(&schema["data"]["__schema"]);
        assert!(
            probes.len() > 150,
            "the schema walk found only {} text positions",
            probes.len()
        );
        let nul = "harbour\u{0}choir";
        let long = "x".repeat(50_000);
        let over = "y".repeat(100_001);
        for (who, email) in emails.iter().enumerate() {
            for p in &probes {
                for (what, text) in [("NUL", nul), ("over-long", over.as_str())] {
                    let label = format!("{what} in {} as {email:?}", p.label);
                    let variables = fill(&p.variables, text);
                    let mut codes =
                        send(&app, tokens[who].as_deref(), &p.query, &variables, &label).await;
                    // An earlier probe (`logout(everywhere: true)`) ended the role's sessions:
                    // sign in again and repeat.
                    if codes == ["UNAUTHENTICATED"]
                        && let Some(e) = email
                    {
                        tokens[who] = Some(app.login(e, PASSWORD).await);
                        codes =
                            send(&app, tokens[who].as_deref(), &p.query, &variables, &label).await;
                    }
                    assert_eq!(codes, ["BAD_USER_INPUT"], "{label}");
                }
                // Within the loosest bound: refused or accepted by the field's own rule,
                // never an internal error (the SQLite LIKE limit, PostgreSQL's encoding).
                let label = format!("50,000 characters in {} as {email:?}", p.label);
                send(
                    &app,
                    tokens[who].as_deref(),
                    &p.query,
                    &fill(&p.variables, &long),
                    &label,
                )
                .await;
            }
        }

        // The calendar's last instant in every text position (a parse error where the position is
        // not a date): arithmetic on it must not overflow.
        for p in &probes {
            for text in ["9999-12-31", "9999-12-31T23:59:59Z", "0001-01-01"] {
                let label = format!("{text} in {}", p.label);
                send(
                    &app,
                    tokens[1].as_deref(),
                    &p.query,
                    &fill(&p.variables, text),
                    &label,
                )
                .await;
            }
        }

        // Fresh sessions for the rest (the walk ended some with `logout`).
        for (who, email) in emails.iter().enumerate() {
            if let Some(e) = email {
                tokens[who] = Some(app.login(e, PASSWORD).await);
            }
        }

        // Inline literals take the same rule as variables.
        let body = app
            .gql(
                tokens[1].as_deref(),
                r#"{ users(filter: {search: "a\u0000b"}) { totalCount } }"#,
                json!({}),
            )
            .await;
        assert_eq!(codes(&body), ["BAD_USER_INPUT"], "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "filter.search");

        // Dates at and past the calendar's ends, numbers past 32 bits.
        for (query, variables) in [
            (
                "query($f: KpiFilter) { kpis(filter: $f) { funnel { applied } } }",
                json!({ "f": { "to": "+262142-12-31" } }),
            ),
            (
                "query($f: KpiFilter) { kpis(filter: $f) { funnel { applied } } }",
                json!({ "f": { "from": "-262143-01-01", "to": "9999-12-31" } }),
            ),
            (
                "query($n: Int) { applications(first: $n) { totalCount } }",
                json!({ "n": 4_294_967_296_i64 }),
            ),
            (
                "query($n: Int) { applications(first: $n) { totalCount } }",
                json!({ "n": -1 }),
            ),
        ] {
            for token in &tokens {
                send(&app, token.as_deref(), query, &variables, query).await;
            }
        }
    }
);
