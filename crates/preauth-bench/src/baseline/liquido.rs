//! Liquido by hand: the OAuth2 client-credentials token, then `Authorization: Bearer` and
//! `x-api-key` on every API call; a card charge with `capture: false`; a full capture
//! (`POST …/capture/{idempotencyKey}`, no body); the `Liquido-Signature` webhook HMAC.

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{BResult, EventView, FORM, HoldView, JSON, Status, Text, WireRequest};
use crate::fixture::Order;

/// The account: endpoints and credentials.
#[derive(Debug, Clone)]
pub struct LiquidoWire {
    /// The token endpoint.
    pub auth_url: String,
    /// The API base URL.
    pub api_url: String,
    /// OAuth2 client id.
    pub client_id: String,
    /// OAuth2 client secret (also the webhook HMAC key).
    pub client_secret: String,
    /// The `x-api-key`.
    pub api_key: String,
    /// Accepted webhook timestamp skew, in seconds.
    pub tolerance_secs: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChargeBody<'a> {
    idempotency_key: &'a str,
    amount: i64,
    currency: &'a str,
    country: &'a str,
    payment_method: &'a str,
    payment_flow: &'a str,
    payer: PayerBody<'a>,
    card: CardBody<'a>,
    capture: bool,
    description: &'a str,
    callback_url: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PayerBody<'a> {
    name: &'a str,
    email: &'a str,
    phone: &'a str,
    billing_address: AddressBody<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AddressBody<'a> {
    zip_code: &'a str,
    state: &'a str,
    city: &'a str,
    street: &'a str,
    number: &'a str,
    country: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CardBody<'a> {
    card_holder_name: &'a str,
    card_number: &'a str,
    expiration_month: &'a str,
    expiration_year: &'a str,
    cvc: &'a str,
}

/// The charge object of every answer (the fields the baseline reads).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Charge<'a> {
    #[serde(borrow)]
    idempotency_key: Text<'a>,
    amount: i64,
    #[serde(default)]
    final_amount: Option<i64>,
    #[serde(borrow)]
    currency: Text<'a>,
    #[serde(borrow)]
    transfer_status: Text<'a>,
    #[serde(default)]
    transfer_status_code: Option<i64>,
}

#[derive(Deserialize)]
struct Token<'a> {
    #[serde(borrow)]
    access_token: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    #[serde(borrow)]
    data: EventData<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventData<'a> {
    #[serde(borrow)]
    charge_details: Charge<'a>,
}

fn status_of(transfer_status: &str) -> BResult<Status> {
    Ok(match transfer_status {
        "INITIAL_STATUS" | "IN_PROGRESS" => Status::Pending,
        "AUTHORIZED" => Status::Authorized,
        "SETTLED" | "REFUNDING" => Status::Captured,
        "FAILED" => Status::Declined,
        "CANCELLED" => Status::Cancelled,
        "EXPIRED" => Status::Expired,
        "REFUNDED" => Status::Refunded,
        "CHARGED_BACK" => Status::Disputed,
        _ => return Err("unknown transferStatus"),
    })
}

impl LiquidoWire {
    /// The account the simulator at `base_url` accepts.
    pub fn for_simulator(base_url: &str) -> Self {
        use preauth::liquido::simulator::{API_KEY, CLIENT_ID, CLIENT_SECRET};
        LiquidoWire {
            auth_url: format!("{base_url}/oauth2/token"),
            api_url: base_url.to_owned(),
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            api_key: API_KEY.to_owned(),
            tolerance_secs: 300,
        }
    }

    /// `POST {auth_url}` with the client-credentials form.
    ///
    /// # Errors
    /// When the form cannot be encoded.
    pub fn token_request(&self) -> BResult<WireRequest> {
        let form = serde_urlencoded::to_string([
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
            ("grant_type", "client_credentials"),
        ])
        .map_err(|_| "cannot encode the token form")?;
        Ok(WireRequest::post(self.auth_url.clone())
            .header("accept", JSON)
            .body(FORM, form.into_bytes()))
    }

    /// The access token of a token answer.
    ///
    /// # Errors
    /// A non-2xx status or an answer without `access_token`.
    pub fn parse_token(&self, status: u16, body: &[u8]) -> BResult<String> {
        if !(200..300).contains(&status) {
            return Err("token refused");
        }
        let t: Token<'_> = serde_json::from_slice(body).map_err(|_| "unreadable token")?;
        Ok(t.access_token.0.into_owned())
    }

    /// Adds the bearer token and the API key, as every API call carries them.
    fn credentials(&self, mut req: WireRequest, token: &str) -> WireRequest {
        req.headers
            .push(("authorization", Cow::Owned(format!("Bearer {token}"))));
        req.headers
            .push(("x-api-key", Cow::Owned(self.api_key.clone())));
        req
    }

    /// The card charge with `capture: false`.
    ///
    /// # Errors
    /// When the body cannot be serialized.
    pub fn authorize(&self, o: &Order, token: &str) -> BResult<WireRequest> {
        let name = format!("{} {}", o.first_name, o.last_name);
        let month = format!("{:02}", o.exp_month);
        let year = format!("{:04}", o.exp_year);
        let body = ChargeBody {
            idempotency_key: &o.key,
            amount: o.amount_minor,
            currency: o.currency,
            country: o.country,
            payment_method: "CREDIT_CARD",
            payment_flow: "DIRECT",
            payer: PayerBody {
                name: &name,
                email: o.email,
                phone: o.phone,
                billing_address: AddressBody {
                    zip_code: o.postal_code,
                    state: o.state,
                    city: o.city,
                    street: o.street,
                    number: o.number,
                    country: o.country,
                },
            },
            card: CardBody {
                card_holder_name: o.holder_name,
                card_number: o.card_number,
                expiration_month: &month,
                expiration_year: &year,
                cvc: o.card_cvc,
            },
            capture: false,
            description: o.description,
            callback_url: o.notify_url,
        };
        let body = serde_json::to_vec(&body).map_err(|_| "cannot serialize the charge")?;
        let req = WireRequest::post(format!("{}/v1/payments/charges/card", self.api_url))
            .header("accept", JSON)
            .body(JSON, body);
        Ok(self.credentials(req, token))
    }

    /// The full capture of the charge `key` (no body).
    pub fn capture(&self, key: &str, token: &str) -> WireRequest {
        let req = WireRequest::post(format!(
            "{}/v1/payments/charges/card/capture/{key}",
            self.api_url
        ))
        .header("accept", JSON)
        .header("content-type", JSON);
        self.credentials(req, token)
    }

    fn charge<'a>(status: u16, body: &'a [u8], key: &str, currency: &str) -> BResult<Charge<'a>> {
        if !(200..300).contains(&status) {
            return Err("http status is not 2xx");
        }
        let c: Charge<'a> = serde_json::from_slice(body).map_err(|_| "unreadable charge")?;
        if c.idempotency_key.as_str() != key {
            return Err("answer about another charge");
        }
        if c.currency.as_str() != currency || c.amount < 0 {
            return Err("unexpected amount or currency");
        }
        if c.transfer_status_code.is_some_and(|code| code != 200) {
            return Err("declined");
        }
        Ok(c)
    }

    /// The hold an authorization answer describes.
    ///
    /// # Errors
    /// A refusal, a decline, an unreadable answer, an unknown status.
    pub fn parse_authorize(
        &self,
        status: u16,
        body: &[u8],
        key: &str,
        currency: &str,
    ) -> BResult<HoldView> {
        let c = Self::charge(status, body, key, currency)?;
        let status = status_of(c.transfer_status.as_str())?;
        if status == Status::Declined {
            return Err("declined");
        }
        Ok(HoldView {
            reference: key.to_owned(),
            status,
            authorized_minor: c.amount,
            captured_minor: 0,
        })
    }

    /// The hold after a capture answer (`SETTLED`, `finalAmount` captured).
    ///
    /// # Errors
    /// A refusal, an unreadable answer, a status other than captured.
    pub fn parse_capture(
        &self,
        status: u16,
        body: &[u8],
        key: &str,
        currency: &str,
    ) -> BResult<HoldView> {
        let c = Self::charge(status, body, key, currency)?;
        if status_of(c.transfer_status.as_str())? != Status::Captured {
            return Err("not captured");
        }
        let captured = c.final_amount.unwrap_or(c.amount);
        if captured > c.amount {
            return Err("captured more than held");
        }
        Ok(HoldView {
            reference: key.to_owned(),
            status: Status::Captured,
            authorized_minor: c.amount,
            captured_minor: captured,
        })
    }

    /// Verifies a notification (`Liquido-Signature: algorithm=HmacSHA256,timestamp=…,
    /// signature=…` over `payload=<body>,timestamp=<timestamp>`, timestamp within the
    /// tolerance of `now_unix`) and reads it.
    ///
    /// # Errors
    /// A missing, malformed, stale or wrong signature; an unreadable body.
    pub fn verify_webhook(
        &self,
        headers: &[(&str, &str)],
        body: &[u8],
        now_unix: i64,
    ) -> BResult<EventView> {
        let header = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("liquido-signature"))
            .map(|(_, v)| *v)
            .ok_or("no signature")?;
        let (mut timestamp, mut signature) = (None, None);
        for part in header.split(',') {
            match part.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
                Some(("timestamp", v)) => timestamp = Some(v),
                Some(("signature", v)) => signature = Some(v),
                Some(("algorithm", v)) if v != "HmacSHA256" => return Err("other algorithm"),
                _ => {}
            }
        }
        let (timestamp, signature) = timestamp.zip(signature).ok_or("malformed signature")?;
        let at: i64 = timestamp.parse().map_err(|_| "malformed timestamp")?;
        if (now_unix - at).abs() > self.tolerance_secs {
            return Err("stale");
        }
        let received = hex::decode(signature).map_err(|_| "malformed signature")?;
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.client_secret.as_bytes()).map_err(|_| "bad key")?;
        mac.update(b"payload=");
        mac.update(body);
        mac.update(b",timestamp=");
        mac.update(timestamp.as_bytes());
        mac.verify_slice(&received).map_err(|_| "bad signature")?;
        let e: Event<'_> = serde_json::from_slice(body).map_err(|_| "unreadable event")?;
        let c = e.data.charge_details;
        let status = status_of(c.transfer_status.as_str())?;
        let amount = match status {
            Status::Captured | Status::Refunded | Status::Disputed => {
                c.final_amount.unwrap_or(c.amount)
            }
            _ => c.amount,
        };
        Ok(EventView {
            reference: c.idempotency_key.0.into_owned(),
            status: Some(status),
            amount_minor: Some(amount),
        })
    }
}
