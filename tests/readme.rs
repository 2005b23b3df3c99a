//! The README's GraphQL examples are real: every operation in a ```graphql block parses and
//! validates against the served schema (sent to a running server as a coordinator; errors of
//! resolvers — e.g. the examples' placeholder ids — are fine, a parse or validation error,
//! which has no `path`, is not).

use crate::common;

use common::TestApp;
use common::fixtures::{PASSWORD, World};
use serde_json::json;

/// Splits a block into its top-level operations (`{…}`, `mutation {…}`, `query … {…}`).
fn operations(block: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    let mut in_string = false;
    for line in block.lines() {
        let line = match line.find(" # ") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        if line.trim_start().starts_with('#') {
            continue;
        }
        for ch in line.chars() {
            current.push(ch);
            match ch {
                '"' => in_string = !in_string,
                '{' if !in_string => depth += 1,
                '}' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        out.push(std::mem::take(&mut current).trim().to_owned());
                    }
                }
                _ => {}
            }
        }
        current.push('\n');
    }
    out
}

both!(every_readme_example_is_valid, |app: TestApp| async move {
    World::build(&app).await;
    let token = app.login("coordinator@test.example", PASSWORD).await;
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let mut checked = 0;
    for block in readme.split("```graphql").skip(1) {
        let block = block.split("```").next().unwrap_or_default();
        for op in operations(block) {
            if op.starts_with("subscription") {
                continue;
            }
            let body = app.gql(Some(&token), &op, json!({})).await;
            // Parse and validation errors have no path; a literal the schema's types refuse
            // (input coercion) and any internal error are just as wrong in an example.
            let invalid: Vec<_> = body["errors"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|e| {
                    let message = e["message"].as_str().unwrap_or_default();
                    e.get("path").is_none()
                        || e["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
                        || message.starts_with("Expected input type")
                        || message.starts_with("Failed to parse")
                })
                .collect();
            assert!(
                invalid.is_empty(),
                "README example does not validate:\n{op}\n→ {invalid:?}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} examples found");
});
