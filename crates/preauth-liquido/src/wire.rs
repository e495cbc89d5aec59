//! Liquido's wire format, named as in its docs: the request bodies (serde `Serialize`, field
//! order as in the docs' examples) and a lenient, total reader of the "charge" object that
//! every charge, capture, cancel, query and refund answer shares.
//!
//! Answers are read field by field from a `serde_json::Value`, so that a problem is reported
//! by field name only: serde's own messages can quote values, and values can be card data.

use serde::Serialize;
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// `POST /v1/payments/charges/card`. Holds borrowed card data; never `Debug`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChargeRequest<'a> {
    pub(crate) idempotency_key: &'a str,
    pub(crate) amount: i64,
    pub(crate) currency: &'a str,
    pub(crate) country: &'a str,
    pub(crate) payment_method: &'static str,
    pub(crate) payment_flow: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) payer: Option<Payer<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) card: Option<Card<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) card_id: Option<&'a str>,
    pub(crate) capture: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) card3ds_info: Option<Card3dsInfo<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) callback_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sub_merchant_id: Option<&'a str>,
}

/// `payer`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Payer<'a> {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) document: Option<PayerDocument<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) billing_address: Option<BillingAddress<'a>>,
}

/// `payer.document`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PayerDocument<'a> {
    pub(crate) document_id: &'a str,
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
}

/// `payer.billingAddress`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BillingAddress<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) zip_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) city: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) district: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) street: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) complement: Option<&'a str>,
    pub(crate) country: &'a str,
}

/// `card`: the secrets are borrowed from the exposed `SecretString`s only while the body is
/// serialized.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Card<'a> {
    pub(crate) card_holder_name: &'a str,
    pub(crate) card_number: &'a str,
    pub(crate) expiration_month: String,
    pub(crate) expiration_year: String,
    pub(crate) cvc: &'a str,
}

/// `card3dsInfo` (docs: payin/three_domain_secure).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Card3dsInfo<'a> {
    pub(crate) use3ds: bool,
    #[serde(rename = "merchantSite3ds")]
    pub(crate) merchant_site_3ds: &'a str,
}

/// The optional body of `POST /v1/payments/charges/card/capture/{idempotencyKey}`.
#[derive(Serialize)]
pub(crate) struct CaptureBody {
    pub(crate) amount: i64,
}

/// `POST /v1/payments/charges/refund`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefundBody<'a> {
    pub(crate) idempotency_key: &'a str,
    pub(crate) reference_id: &'a str,
    pub(crate) amount: i64,
    pub(crate) currency: &'a str,
    pub(crate) country: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) callback_url: Option<&'a str>,
}

/// The token endpoint's answer: `{access_token, expires_in, token_type}`.
#[derive(Debug)]
pub(crate) struct TokenAnswer {
    pub(crate) access_token: String,
    pub(crate) expires_in: u64,
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

/// Why an answer could not be read. Names a field or a shape, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WireError {
    Empty,
    Html,
    NotJson,
    Truncated,
    NotAnObject,
    Missing(&'static str),
    BadType(&'static str, &'static str),
}

impl WireError {
    pub(crate) fn message(&self) -> String {
        match self {
            WireError::Empty => "empty answer".into(),
            WireError::Html => "answer is an HTML page, not JSON".into(),
            WireError::NotJson => "answer is not JSON".into(),
            WireError::Truncated => "answer is truncated JSON".into(),
            WireError::NotAnObject => "answer is not a JSON object".into(),
            WireError::Missing(f) => format!("field {f} is missing"),
            WireError::BadType(f, want) => format!("field {f} is not {want}"),
        }
    }
}

/// Parses a body into a JSON object, classifying failures without quoting the body.
pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, WireError> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Err(WireError::Empty);
    }
    if trimmed.first() == Some(&b'<') {
        return Err(WireError::Html);
    }
    match serde_json::from_slice::<Value>(trimmed) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(WireError::NotAnObject),
        Err(e) if e.is_eof() => Err(WireError::Truncated),
        Err(_) => Err(WireError::NotJson),
    }
}

/// A typed view of one JSON object, with per-field errors.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a>(pub(crate) &'a Map<String, Value>);

impl<'a> Obj<'a> {
    fn get(&self, f: &str) -> Option<&'a Value> {
        self.0.get(f).filter(|v| !v.is_null())
    }

    pub(crate) fn opt_str(&self, f: &'static str) -> Result<Option<&'a str>, WireError> {
        match self.get(f) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(WireError::BadType(f, "a string")),
        }
    }

    pub(crate) fn req_str(&self, f: &'static str) -> Result<&'a str, WireError> {
        self.opt_str(f)?
            .filter(|s| !s.is_empty())
            .ok_or(WireError::Missing(f))
    }

    /// An integer, as a JSON integer or a string of digits (one docs example sends `"300"`).
    pub(crate) fn opt_int(&self, f: &'static str) -> Result<Option<i64>, WireError> {
        match self.get(f) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or(WireError::BadType(f, "an integer")),
            Some(Value::String(s))
                if !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) =>
            {
                s.parse::<i64>()
                    .map(Some)
                    .map_err(|_| WireError::BadType(f, "an integer"))
            }
            Some(_) => Err(WireError::BadType(f, "an integer")),
        }
    }

    pub(crate) fn opt_obj(&self, f: &'static str) -> Result<Option<Obj<'a>>, WireError> {
        match self.get(f) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Obj(m))),
            Some(_) => Err(WireError::BadType(f, "an object")),
        }
    }
}

/// The charge object (docs: "common response fields"), also used for refunds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Charge {
    pub(crate) transfer_status_code: Option<i64>,
    pub(crate) transfer_error_msg: Option<String>,
    pub(crate) idempotency_key: String,
    pub(crate) reference_id: Option<String>,
    pub(crate) payment_method: Option<String>,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) final_amount: Option<i64>,
    pub(crate) final_currency: Option<String>,
    pub(crate) country: Option<String>,
    pub(crate) create_time: Option<String>,
    pub(crate) final_status_time: Option<String>,
    pub(crate) transfer_status: String,
    pub(crate) callback_url: Option<String>,
    pub(crate) card_info: Option<CardInfo>,
    pub(crate) three_ds_redirect_url: Option<String>,
}

/// `transferDetails.card.cardInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct CardInfo {
    pub(crate) brand: Option<String>,
    pub(crate) last4: Option<String>,
    pub(crate) expiration_month: Option<i64>,
    pub(crate) expiration_year: Option<i64>,
}

impl Charge {
    /// Reads a charge object. Unknown fields are ignored; `null` counts as absent.
    pub(crate) fn from_obj(o: Obj<'_>) -> Result<Charge, WireError> {
        let s = |f: &'static str| o.opt_str(f).map(|v| v.map(str::to_owned));
        let amount = o.opt_int("amount")?.ok_or(WireError::Missing("amount"))?;
        if amount < 0 {
            return Err(WireError::BadType("amount", "a non-negative integer"));
        }
        let final_amount = o.opt_int("finalAmount")?;
        if final_amount.is_some_and(|a| a < 0) {
            return Err(WireError::BadType("finalAmount", "a non-negative integer"));
        }
        let mut card_info = None;
        let mut three_ds_redirect_url = None;
        if let Some(card) = o
            .opt_obj("transferDetails")?
            .map(|d| d.opt_obj("card"))
            .transpose()?
            .flatten()
        {
            if let Some(ci) = card.opt_obj("cardInfo")? {
                card_info = Some(CardInfo {
                    brand: ci.opt_str("brand")?.map(str::to_owned),
                    last4: ci.opt_str("last4")?.map(str::to_owned),
                    expiration_month: ci.opt_int("expirationMonth")?,
                    expiration_year: ci.opt_int("expirationYear")?,
                });
            }
            if let Some(tds) = card.opt_obj("card3dsInfo")? {
                three_ds_redirect_url = tds
                    .opt_str("threeDsRedirectUrl")?
                    .filter(|u| !u.is_empty())
                    .map(str::to_owned);
            }
        }
        Ok(Charge {
            transfer_status_code: o.opt_int("transferStatusCode")?,
            transfer_error_msg: s("transferErrorMsg")?,
            idempotency_key: o.req_str("idempotencyKey")?.to_owned(),
            reference_id: s("referenceId")?,
            payment_method: s("paymentMethod")?,
            amount,
            currency: o.req_str("currency")?.to_owned(),
            final_amount,
            final_currency: s("finalCurrency")?,
            country: s("country")?,
            create_time: s("createTime")?,
            final_status_time: s("finalStatusTime")?,
            transfer_status: o.req_str("transferStatus")?.to_owned(),
            callback_url: s("callbackUrl")?,
            card_info,
            three_ds_redirect_url,
        })
    }

    /// Whether the request behind this answer failed (`transferStatusCode` other than 200).
    pub(crate) fn failed(&self) -> bool {
        self.transfer_status_code.is_some_and(|c| c != 200)
    }
}

/// The failure fields of an answer of unknown shape: `transferStatusCode`/`transferErrorMsg`
/// (charge API), `code`/`message` and `data.errorMessage` (payment-link API), `error` /
/// `error_description` (OAuth2). `None` for a field that is absent or of another type.
pub(crate) fn lenient_details(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(m) = json_object(body) else {
        return (None, None);
    };
    let text = |v: &Value| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let pick = |keys: &[&str]| keys.iter().find_map(|k| m.get(*k).and_then(text));
    let code = pick(&["transferStatusCode", "code", "error", "errorCode"]);
    let message = pick(&[
        "transferErrorMsg",
        "message",
        "error_description",
        "errorMessage",
    ])
    .or_else(|| {
        m.get("data")
            .and_then(|d| d.get("errorMessage"))
            .and_then(text)
    });
    (code, message.map(|s| truncate(&s, 200)))
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// Reads `{access_token, expires_in, token_type}`.
pub(crate) fn token_answer(body: &[u8]) -> Result<TokenAnswer, WireError> {
    let m = json_object(body)?;
    let o = Obj(&m);
    let access_token = o.req_str("access_token")?.to_owned();
    let expires_in = o
        .opt_int("expires_in")?
        .ok_or(WireError::Missing("expires_in"))?;
    let expires_in =
        u64::try_from(expires_in)
            .ok()
            .filter(|s| *s > 0)
            .ok_or(WireError::BadType(
                "expires_in",
                "a positive number of seconds",
            ))?;
    if let Some(t) = o.opt_str("token_type")?
        && !t.eq_ignore_ascii_case("bearer")
    {
        return Err(WireError::BadType("token_type", "Bearer"));
    }
    Ok(TokenAnswer {
        access_token,
        expires_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_object_classifies_without_quoting() {
        assert_eq!(json_object(b"").unwrap_err(), WireError::Empty);
        assert_eq!(json_object(b"  \n").unwrap_err(), WireError::Empty);
        assert_eq!(json_object(b"<html>").unwrap_err(), WireError::Html);
        assert_eq!(
            json_object(b"{\"a\": tru").unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(json_object(b"{\"a\": 1").unwrap_err(), WireError::Truncated);
        assert_eq!(json_object(b"nope").unwrap_err(), WireError::NotJson);
        assert_eq!(json_object(b"[1]").unwrap_err(), WireError::NotAnObject);
        assert!(json_object(b"{}").is_ok());
    }

    #[test]
    fn ints_accept_digit_strings_only() {
        let m: Map<String, Value> =
            serde_json::from_str(r#"{"a":1,"b":"300","c":1.5,"d":"-1","e":true,"f":null}"#)
                .unwrap();
        let o = Obj(&m);
        assert_eq!(o.opt_int("a").unwrap(), Some(1));
        assert_eq!(o.opt_int("b").unwrap(), Some(300));
        assert!(o.opt_int("c").is_err());
        assert!(o.opt_int("d").is_err());
        assert!(o.opt_int("e").is_err());
        assert_eq!(o.opt_int("f").unwrap(), None);
        assert_eq!(o.opt_int("g").unwrap(), None);
    }

    #[test]
    fn lenient_details_shapes() {
        assert_eq!(
            lenient_details(br#"{"transferStatusCode":2001,"transferErrorMsg":"declined"}"#),
            (Some("2001".into()), Some("declined".into()))
        );
        assert_eq!(
            lenient_details(br#"{"code":400,"message":"bad","data":{"errorMessage":"x"}}"#),
            (Some("400".into()), Some("bad".into()))
        );
        assert_eq!(
            lenient_details(br#"{"code":400,"data":{"errorMessage":"x"}}"#),
            (Some("400".into()), Some("x".into()))
        );
        assert_eq!(
            lenient_details(br#"{"error":"invalid_client"}"#),
            (Some("invalid_client".into()), None)
        );
        assert_eq!(lenient_details(b"<html>"), (None, None));
        assert_eq!(
            lenient_details(br#"{"message":{"nested":1}}"#),
            (None, None)
        );
    }

    #[test]
    fn token_answers() {
        let t = token_answer(br#"{"access_token":"eyJ","expires_in":3600,"token_type":"Bearer"}"#)
            .unwrap();
        assert_eq!(t.expires_in, 3600);
        assert!(token_answer(br#"{"access_token":"eyJ","expires_in":0}"#).is_err());
        assert!(token_answer(br#"{"access_token":"","expires_in":10}"#).is_err());
        assert!(token_answer(br#"{"expires_in":10}"#).is_err());
        assert!(
            token_answer(br#"{"access_token":"a","expires_in":10,"token_type":"mac"}"#).is_err()
        );
    }
}
