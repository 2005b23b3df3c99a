//! The selection of a field as the GraphQL specification's *CollectFields* defines it: fragments
//! spread and inlined, `@skip` / `@include` evaluated with the request's variables, fields of
//! one response key merged, in the order of their first appearance; arguments with their
//! variables substituted.

use async_graphql::parser::types::{Directive, Field, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Value};

/// One selected field under its response key.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    /// The key in the response (the alias, or the field's name).
    pub key: String,
    /// The field's name.
    pub name: String,
    /// Its arguments, variables substituted.
    pub args: Vec<(Name, Value)>,
    /// Its own selection, collected the same way.
    pub children: Vec<Selected>,
}

/// What collecting needs from the request.
pub struct Request<'a> {
    pub fragments: &'a std::collections::HashMap<
        Name,
        Positioned<async_graphql::parser::types::FragmentDefinition>,
    >,
    /// The variables, defaults of the operation's definitions applied.
    pub variable: &'a dyn Fn(&Name) -> Value,
}

/// The collected selection of `set`.
pub fn collect(req: &Request<'_>, set: &SelectionSet) -> Vec<Selected> {
    let mut out: Vec<Selected> = Vec::new();
    collect_into(req, set, &mut out, &mut Vec::new());
    out
}

fn collect_into(
    req: &Request<'_>,
    set: &SelectionSet,
    out: &mut Vec<Selected>,
    visiting: &mut Vec<Name>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                if !included(req, &f.node.directives) {
                    continue;
                }
                add_field(req, &f.node, out);
            }
            Selection::InlineFragment(i) => {
                if included(req, &i.node.directives) {
                    collect_into(req, &i.node.selection_set.node, out, visiting);
                }
            }
            Selection::FragmentSpread(s) => {
                let name = &s.node.fragment_name.node;
                if !included(req, &s.node.directives) || visiting.contains(name) {
                    continue;
                }
                if let Some(fragment) = req.fragments.get(name) {
                    visiting.push(name.clone());
                    collect_into(req, &fragment.node.selection_set.node, out, visiting);
                    visiting.pop();
                }
            }
        }
    }
}

fn add_field(req: &Request<'_>, f: &Field, out: &mut Vec<Selected>) {
    let key = f.response_key().node.to_string();
    let children = collect(req, &f.selection_set.node);
    // Validation made every field of one key the same field with the same arguments: merge.
    if let Some(existing) = out.iter_mut().find(|s| s.key == key) {
        for child in children {
            merge(&mut existing.children, child);
        }
        return;
    }
    let args = f
        .arguments
        .iter()
        .map(|(name, value)| {
            let value = value
                .node
                .clone()
                .into_const_with(|var| Ok::<_, std::convert::Infallible>((req.variable)(&var)));
            let Ok(value) = value;
            (name.node.clone(), value)
        })
        .collect();
    out.push(Selected {
        key,
        name: f.name.node.to_string(),
        args,
        children,
    });
}

fn merge(into: &mut Vec<Selected>, s: Selected) {
    match into.iter_mut().find(|e| e.key == s.key) {
        Some(existing) => {
            for child in s.children {
                merge(&mut existing.children, child);
            }
        }
        None => into.push(s),
    }
}

/// Whether `@skip` / `@include` keep a selection.
fn included(req: &Request<'_>, directives: &[Positioned<Directive>]) -> bool {
    directives.iter().all(|d| {
        let condition =
            d.node
                .get_argument("if")
                .map(|v| {
                    let v = v.node.clone().into_const_with(|var| {
                        Ok::<_, std::convert::Infallible>((req.variable)(&var))
                    });
                    let Ok(v) = v;
                    v == Value::Boolean(true)
                })
                .unwrap_or(false);
        match d.node.name.node.as_str() {
            "skip" => !condition,
            "include" => condition,
            _ => true,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect_query(q: &str, vars: serde_json::Value) -> Vec<Selected> {
        let doc = async_graphql::parser::parse_query(q).expect("parses");
        let vars = async_graphql::Variables::from_json(vars);
        let variable = |name: &Name| vars.get(name).cloned().unwrap_or_default();
        let req = Request {
            fragments: &doc.fragments,
            variable: &variable,
        };
        let (_, op) = doc.operations.iter().next().expect("operation");
        collect(&req, &op.node.selection_set.node)
    }

    fn keys(s: &[Selected]) -> Vec<&str> {
        s.iter().map(|s| s.key.as_str()).collect()
    }

    #[test]
    fn fragments_directives_aliases_and_merging() {
        let q = "query($show: Boolean!, $n: Int) {
            a: apps(first: $n) { ...F total @skip(if: $show) }
            apps2: apps { id }
            a: apps(first: $n) { ... on X { extra } more @include(if: $show) }
        }
        fragment F on X { id id title }";
        let got = collect_query(q, serde_json::json!({ "show": true, "n": 5 }));
        assert_eq!(keys(&got), ["a", "apps2"]);
        assert_eq!(got[0].name, "apps");
        assert_eq!(got[0].args, vec![(Name::new("first"), Value::from(5))]);
        assert_eq!(keys(&got[0].children), ["id", "title", "extra", "more"]);
        let got = collect_query(q, serde_json::json!({ "show": false }));
        assert_eq!(keys(&got[0].children), ["id", "title", "total", "extra"]);
        assert_eq!(got[0].args, vec![(Name::new("first"), Value::Null)]);
    }
}
