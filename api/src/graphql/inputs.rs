//! The one rule for text inputs: every `String`, `ID` and custom-scalar value a request passes —
//! as an argument, inside an input object or a list, inline or through a variable — is refused
//! with BAD_USER_INPUT (and `extensions.field` naming where it was) when it holds a NUL
//! character or is longer than the bound of its kind. The check runs once per request, on the
//! parsed document and its variables, before any resolver: no text reaches a database that
//! cannot store it (PostgreSQL refuses NUL bytes) or a pattern matcher it would overwhelm
//! (SQLite's `LIKE` stops at 50,000 bytes).
//!
//! The kind of a value follows from where the schema puts it, never from the value itself, so
//! a text meant for a search field cannot borrow the longer bound of a body text by arriving
//! through a variable. Domain types (`NonEmptyText`, `Email` …) then apply their own, tighter
//! limits to what they parse; this rule is the ceiling for everything, filters included.

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::registry::{MetaInputValue, MetaType, MetaTypeName, Registry};
use async_graphql::{ServerError, ServerResult, Value as ConstValue, Variables};

use crate::error::code;

/// What a text input is for, and so how long it may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// An opaque global id (`ID`).
    Id,
    /// A search text or a filter value (fields of `…Filter` inputs, `search` arguments).
    Search,
    /// An e-mail address.
    Email,
    /// A password.
    Password,
    /// A custom scalar's text form (`Date`, `DateTime`, `Decimal`, `CountryCode`).
    Scalar,
    /// Any other text: names, titles, descriptions, plan sections, practice bodies.
    Text,
}

impl TextKind {
    /// The most characters a value of this kind may have. The schema's description of the
    /// `Query` type lists them (keep the two in step).
    pub const fn max_chars(self) -> usize {
        match self {
            Self::Id => 128,
            Self::Search => 200,
            Self::Email => 254,
            Self::Password => 256,
            Self::Scalar => 64,
            Self::Text => 100_000,
        }
    }

    /// The kind of a value of type `named` at input field or argument `field` of `container`
    /// (an input object's name, or `Type.field` for an argument).
    fn of(named: &str, container: &str, field: &str) -> Self {
        match named {
            "ID" => Self::Id,
            "String" if container.ends_with("Filter") || field == "search" => Self::Search,
            "String" if field == "email" => Self::Email,
            "String" if field.to_ascii_lowercase().ends_with("password") => Self::Password,
            "String" => Self::Text,
            _ => Self::Scalar,
        }
    }
}

/// The built-in scalars that carry no text.
fn is_textless_scalar(named: &str) -> bool {
    matches!(named, "Int" | "Float" | "Boolean")
}

/// Checks every text value of every operation in `doc`.
pub fn check(
    registry: &Registry,
    doc: &ExecutableDocument,
    variables: &Variables,
) -> ServerResult<()> {
    for (_, operation) in doc.operations.iter() {
        let root = match operation.node.ty {
            async_graphql::parser::types::OperationType::Query => {
                Some(registry.query_type.as_str())
            }
            async_graphql::parser::types::OperationType::Mutation => {
                registry.mutation_type.as_deref()
            }
            async_graphql::parser::types::OperationType::Subscription => {
                registry.subscription_type.as_deref()
            }
        };
        let Some(root) = root else { continue };
        let mut walker = Walker {
            registry,
            doc,
            variables,
            fragments: HashSet::new(),
        };
        walker.selection_set(&operation.node.selection_set.node, root)?;
    }
    Ok(())
}

struct Walker<'a> {
    registry: &'a Registry,
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    /// Fragments already walked under a type (a fragment's arguments are the same wherever it
    /// is spread, so once is enough; this also ends cycles, which validation refuses later).
    fragments: HashSet<(&'a str, &'a str)>,
}

impl<'a> Walker<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet, on: &'a str) -> ServerResult<()> {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let Some(meta) = self.field(on, field.name.node.as_str()) else {
                        // Unknown fields, and the introspection fields: validation decides.
                        continue;
                    };
                    for (name, value) in &field.arguments {
                        let Some(arg) = meta.1.get(name.node.as_str()) else {
                            continue;
                        };
                        // Variables are checked where they are used: a text passed to a
                        // search field gets the search bound whatever its declared type.
                        let value = value.node.clone().into_const_with(|var| {
                            Ok::<_, std::convert::Infallible>(
                                self.variables.get(&var).cloned().unwrap_or_default(),
                            )
                        });
                        let Ok(value) = value;
                        let container = format!("{on}.{}", field.name.node);
                        self.constant(
                            &value,
                            &arg.ty,
                            &container,
                            &arg.name,
                            name.node.to_string(),
                        )?;
                    }
                    let child = MetaTypeName::concrete_typename(meta.0);
                    self.selection_set(&field.selection_set.node, child)?;
                }
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .unwrap_or(on);
                    self.selection_set(&fragment.node.selection_set.node, on)?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let Some(fragment) = self.doc.fragments.get(name) else {
                        continue;
                    };
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    if self.fragments.insert((name, on)) {
                        self.selection_set(&fragment.node.selection_set.node, on)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The return type and arguments of field `name` of type `on`.
    fn field(
        &self,
        on: &str,
        name: &str,
    ) -> Option<(
        &'a str,
        &'a async_graphql::indexmap::IndexMap<String, MetaInputValue>,
    )> {
        let fields = match self.registry.types.get(on)? {
            MetaType::Object { fields, .. } | MetaType::Interface { fields, .. } => fields,
            _ => return None,
        };
        let f = fields.get(name)?;
        Some((f.ty.as_str(), &f.args))
    }

    /// A value of type `ty` (a GraphQL type string such as `[String!]!`), with its variables
    /// substituted.
    fn constant(
        &self,
        value: &ConstValue,
        ty: &str,
        container: &str,
        field: &str,
        path: String,
    ) -> ServerResult<()> {
        let named = MetaTypeName::concrete_typename(ty);
        match value {
            ConstValue::String(s) if !is_textless_scalar(named) => {
                text(s, TextKind::of(named, container, field), &path)
            }
            ConstValue::List(items) => {
                let inner = match MetaTypeName::create(ty) {
                    MetaTypeName::NonNull(t) => match MetaTypeName::create(t) {
                        MetaTypeName::List(t) => t,
                        _ => t,
                    },
                    MetaTypeName::List(t) => t,
                    MetaTypeName::Named(t) => t,
                };
                for (i, item) in items.iter().enumerate() {
                    self.constant(item, inner, container, field, format!("{path}.{i}"))?;
                }
                Ok(())
            }
            ConstValue::Object(fields) => {
                let Some(MetaType::InputObject { input_fields, .. }) =
                    self.registry.types.get(named)
                else {
                    return Ok(());
                };
                for (name, v) in fields {
                    if let Some(f) = input_fields.get(name.as_str()) {
                        self.constant(v, &f.ty, named, &f.name, format!("{path}.{name}"))?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// The rule itself.
fn text(s: &str, kind: TextKind, path: &str) -> ServerResult<()> {
    let refusal = if s.contains('\0') {
        Some("must not contain NUL characters".to_owned())
    } else if s.len() > kind.max_chars() && s.chars().count() > kind.max_chars() {
        Some(format!("must be at most {} characters", kind.max_chars()))
    } else {
        None
    };
    match refusal {
        None => Ok(()),
        Some(message) => {
            let mut e = ServerError::new(format!("`{path}` {message}"), None);
            let ext = e.extensions.get_or_insert_with(Default::default);
            ext.set("code", code::BAD_USER_INPUT);
            ext.set("field", path);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_follows_the_position() {
        assert_eq!(TextKind::of("ID", "X", "id"), TextKind::Id);
        assert_eq!(TextKind::of("String", "UserFilter", "x"), TextKind::Search);
        assert_eq!(
            TextKind::of("String", "Query.practices", "search"),
            TextKind::Search
        );
        assert_eq!(
            TextKind::of("String", "LoginInput", "email"),
            TextKind::Email
        );
        assert_eq!(
            TextKind::of("String", "X", "newPassword"),
            TextKind::Password
        );
        assert_eq!(TextKind::of("Date", "X", "from"), TextKind::Scalar);
        assert_eq!(
            TextKind::of("String", "CreatePracticeInput", "body"),
            TextKind::Text
        );
    }

    #[test]
    fn the_schema_documents_every_bound() {
        let config = crate::config::Config::from_env_for_tests();
        let sdl = crate::graphql::schema::build(&config)
            .expect("schema")
            .sdl();
        for (kind, written) in [
            (TextKind::Id, "`ID` 128"),
            (TextKind::Search, "200"),
            (TextKind::Email, "e-mail 254"),
            (TextKind::Password, "passwords 256"),
            (TextKind::Scalar, "`CountryCode` 64"),
            (TextKind::Text, "other text 100,000"),
        ] {
            let digits: String = written.chars().filter(char::is_ascii_digit).collect();
            assert_eq!(digits, kind.max_chars().to_string(), "{kind:?}");
            assert!(
                sdl.contains(written),
                "the Query description lists {written}"
            );
        }
    }

    #[test]
    fn nul_and_overlong_texts_are_refused_with_the_field() {
        let e = text("a\0b", TextKind::Text, "input.name").expect_err("NUL");
        assert!(e.message.contains("NUL"));
        let long = "ü".repeat(201);
        let e = text(&long, TextKind::Search, "filter.search").expect_err("long");
        assert_eq!(
            e.extensions.as_ref().and_then(|x| x.get("field")),
            Some(&ConstValue::from("filter.search"))
        );
        assert!(text(&"ü".repeat(200), TextKind::Search, "f").is_ok());
    }
}
