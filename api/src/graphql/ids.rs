//! Opaque global ids (Relay Global Object Identification): `base64url("Type:uuid")`.
//!
//! Clients must treat them as opaque; the type prefix lets `node(id:)` dispatch and stops an id of
//! one type from being accepted where another is expected.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Encodes a global id.
pub fn encode(type_name: &str, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}")))
}

/// Encodes the global id of an object whose key is not a UUID (a country's ISO code).
pub fn encode_key(type_name: &str, key: &str) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{key}")))
}

/// An opaque token for a text (a cursor): URL-safe base64, never to be parsed by clients.
pub fn opaque(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// The text of an [`opaque`] token, if it is one.
pub fn unopaque(token: &str) -> Option<String> {
    if token.len() > 200 {
        return None;
    }
    String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()
}

/// Splits a global id into its type and key; anything malformed is BAD_USER_INPUT on `field`.
pub fn split(id: &ID, field: &str) -> AppResult<(String, String)> {
    let invalid = || AppError::bad_input(field, "not a valid id");
    if id.len() > 200 {
        return Err(invalid());
    }
    let raw = URL_SAFE_NO_PAD.decode(id.as_str()).map_err(|_| invalid())?;
    let text = String::from_utf8(raw).map_err(|_| invalid())?;
    let (ty, key) = text.split_once(':').ok_or_else(invalid)?;
    Ok((ty.to_owned(), key.to_owned()))
}

/// Splits a global id into its type and UUID; anything malformed is BAD_USER_INPUT on `field`.
pub fn decode_any(id: &ID, field: &str) -> AppResult<(String, Uuid)> {
    let (ty, key) = split(id, field)?;
    let uuid = Uuid::parse_str(&key).map_err(|_| AppError::bad_input(field, "not a valid id"))?;
    Ok((ty, uuid))
}

/// Decodes a global id that must be of `type_name`.
pub fn decode(id: &ID, type_name: &str, field: &str) -> AppResult<Uuid> {
    let (ty, uuid) = decode_any(id, field)?;
    if ty != type_name {
        return Err(AppError::bad_input(
            field,
            format!("expected the id of a {type_name}"),
        ));
    }
    Ok(uuid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_refuse_the_wrong_type() {
        let id = Uuid::now_v7();
        let global = encode("Application", id);
        assert_eq!(decode(&global, "Application", "id").unwrap(), id);
        let wrong = decode(&global, "Plan", "planId").unwrap_err();
        assert_eq!(wrong.code(), "BAD_USER_INPUT");
        for bad in [
            "",
            "not base64!",
            &URL_SAFE_NO_PAD.encode("Application:not-a-uuid"),
        ] {
            assert!(
                decode(&ID(bad.to_owned()), "Application", "id").is_err(),
                "{bad}"
            );
        }
        assert!(decode(&ID("A".repeat(201)), "Application", "id").is_err());
        assert_eq!(unopaque(&opaque("live:7")).as_deref(), Some("live:7"));
        assert_eq!(unopaque("%%%"), None);
    }
}
