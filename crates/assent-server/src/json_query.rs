//! Query strings read with the field named in every mistake, answered in JSON like any other
//! error: axum's own `Query` answers in plain text.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::api_error::ApiError;

/// Like `axum::extract::Query`, but a bad query string is a JSON `400` naming the parameter:
/// `GET /v1/id?writeKey=a&writeKey=b` → `{"error":"invalid_query","field":"writeKey",…}`.
pub struct JsonQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for JsonQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let parser = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(parser)
            .map(JsonQuery)
            .map_err(|e| {
                let message = e.inner().to_string();
                let path = e.path().to_string();
                // A parameter given twice fails at the top, naming itself in the message.
                let field = match path.as_str() {
                    "." => message.split('`').nth(1).unwrap_or("query").to_string(),
                    _ => path,
                };
                ApiError::Query {
                    message: format!("query parameter `{field}`: {message}"),
                    field,
                }
            })
    }
}
