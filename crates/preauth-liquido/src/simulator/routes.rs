//! The simulator's HTTP handlers.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use preauth_core::Currency;
use serde_json::{Map, Value, json};

use super::{
    API_KEY, CLIENT_ID, CLIENT_SECRET, DECLINE_CODE, SimCard, SimCharge, SimRefund, SimThreeDs,
    Simulator, TOKEN_LIFETIME_SECS, cards, is_card_method,
};
use crate::convert::{TransferStatus, check_payer_name};

pub(super) fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/oauth2/token", post(token))
        .route("/v1/payments/charges/card", post(create_charge))
        .route("/v1/payments/charges/card/capture/{key}", post(capture))
        .route("/v1/payments/charges/cancel/{key}", post(cancel))
        .route("/v1/payments/charges/refund", post(create_refund))
        .route("/v1/payments/charges/refund/{key}", get(get_refund))
        .route("/v1/payments/charges/{key}", get(get_charge))
        .route("/sim/3ds/{key}", get(three_ds_page))
        .with_state(sim)
}

fn answer(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn ok(body: Value) -> Response {
    answer(StatusCode::OK, body)
}

/// A refusal: HTTP status and message, rendered as Liquido-style JSON.
struct Refuse(StatusCode, String);

impl IntoResponse for Refuse {
    fn into_response(self) -> Response {
        match self.0 {
            StatusCode::UNAUTHORIZED => answer(self.0, json!({"message": self.1})),
            s => answer(s, json!({"code": s.as_u16(), "message": self.1})),
        }
    }
}

type Reply = Result<Response, Refuse>;

fn reply(r: Reply) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

fn bad_request(message: impl Into<String>) -> Refuse {
    Refuse(StatusCode::BAD_REQUEST, message.into())
}

fn not_found(what: &str) -> Refuse {
    Refuse(StatusCode::NOT_FOUND, format!("{what} not found"))
}

fn unauthorized() -> Refuse {
    Refuse(StatusCode::UNAUTHORIZED, "Unauthorized".into())
}

impl Simulator {
    /// `Authorization: Bearer <live token>` and `x-api-key`, or 401.
    fn check_auth(&self, headers: &HeaderMap) -> Result<(), Refuse> {
        let api_key_ok = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|k| k == API_KEY);
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim().to_owned());
        let now = self.now();
        let token_ok = token.is_some_and(|t| {
            self.lock()
                .tokens
                .get(&t)
                .is_some_and(|expires| now < *expires)
        });
        if api_key_ok && token_ok {
            Ok(())
        } else {
            Err(unauthorized())
        }
    }
}

async fn token(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    sim.lock().token_requests += 1;
    let form_ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return answer(StatusCode::BAD_REQUEST, json!({"error": "invalid_request"}));
    };
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if !form_ok {
        return answer(StatusCode::BAD_REQUEST, json!({"error": "invalid_request"}));
    }
    if field("grant_type") != Some("client_credentials") {
        return answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "unsupported_grant_type"}),
        );
    }
    if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(CLIENT_SECRET) {
        return answer(StatusCode::BAD_REQUEST, json!({"error": "invalid_client"}));
    }
    let now = sim.now();
    let mut st = sim.lock();
    st.next_id += 1;
    let token = format!("sim-at-{}-{:016x}", st.next_id, fastrand::u64(..));
    st.tokens.insert(
        token.clone(),
        now + std::time::Duration::from_secs(TOKEN_LIFETIME_SECS),
    );
    ok(json!({
        "access_token": token,
        "expires_in": TOKEN_LIFETIME_SECS,
        "token_type": "Bearer",
    }))
}

fn json_body(body: &[u8]) -> Result<Map<String, Value>, Refuse> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad_request("body must be a JSON object")),
    }
}

fn str_field<'a>(m: &'a Map<String, Value>, k: &str) -> Result<Option<&'a str>, Refuse> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_request(format!("{k} must be a string"))),
    }
}

fn req_str<'a>(m: &'a Map<String, Value>, k: &str) -> Result<&'a str, Refuse> {
    str_field(m, k)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad_request(format!("{k} is required")))
}

/// A positive amount in minor units: a JSON integer (or a string of digits, as one docs
/// example sends).
fn amount_field(m: &Map<String, Value>, k: &str) -> Result<Option<i64>, Refuse> {
    let bad = || bad_request(format!("{k} must be a positive integer in minor units"));
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().filter(|a| *a > 0).map(Some).ok_or_else(bad),
        Some(Value::String(s)) if s.bytes().all(|b| b.is_ascii_digit()) => s
            .parse::<i64>()
            .ok()
            .filter(|a| *a > 0)
            .map(Some)
            .ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

fn parse_card(c: &Map<String, Value>, card_id: String) -> Result<(SimCard, String), Refuse> {
    let holder = req_str(c, "cardHolderName")?;
    let number = req_str(c, "cardNumber")?;
    if !(12..=19).contains(&number.len())
        || !number.bytes().all(|b| b.is_ascii_digit())
        || !luhn(number)
    {
        return Err(bad_request("cardNumber is invalid"));
    }
    let month = req_str(c, "expirationMonth")?;
    let exp_month = (month.len() == 2)
        .then(|| month.parse::<i64>().ok())
        .flatten()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(|| bad_request("expirationMonth must be two digits, 01 to 12"))?;
    let year = req_str(c, "expirationYear")?;
    let exp_year = (year.len() == 4)
        .then(|| year.parse::<i64>().ok())
        .flatten()
        .ok_or_else(|| bad_request("expirationYear must be four digits"))?;
    let cvc = req_str(c, "cvc")?;
    if !(3..=4).contains(&cvc.len()) || !cvc.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_request("cvc must be 3 or 4 digits"));
    }
    let brand = match number.as_bytes().first() {
        Some(b'4') => "VISA",
        Some(b'5') | Some(b'2') => "MASTERCARD",
        Some(b'3') => "AMEX",
        _ => "UNKNOWN",
    };
    Ok((
        SimCard {
            holder: holder.to_owned(),
            brand,
            bin: number[..6].to_owned(),
            last4: number[number.len() - 4..].to_owned(),
            exp_month,
            exp_year,
            card_id,
        },
        number.to_owned(),
    ))
}

fn check_payer(m: &Map<String, Value>) -> Result<Option<Value>, Refuse> {
    match m.get("payer") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(p)) => {
            let name = req_str(p, "name")?;
            if check_payer_name(name).is_err() {
                return Err(bad_request(
                    "payer.name may contain only letters, digits and spaces",
                ));
            }
            Ok(Some(Value::Object(p.clone())))
        }
        Some(_) => Err(bad_request("payer must be an object")),
    }
}

async fn create_charge(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    reply(
        sim.check_auth(&headers)
            .and_then(|()| new_charge(&sim, &headers, &body)),
    )
}

fn new_charge(sim: &Simulator, headers: &HeaderMap, body: &[u8]) -> Reply {
    let m = json_body(body)?;
    let key = req_str(&m, "idempotencyKey")?;
    let now = sim.now();
    let validity = sim.validity();
    {
        // Liquido identifies the charge by its idempotencyKey: a re-sent request finds it.
        let mut st = sim.lock();
        if let Some(c) = st.charges.get_mut(key) {
            c.refresh(now, validity);
            return Ok(ok(c.to_json()));
        }
    }
    let amount = amount_field(&m, "amount")?.ok_or_else(|| bad_request("amount is required"))?;
    let currency = req_str(&m, "currency")?;
    if Currency::from_code(currency).is_err() {
        return Err(bad_request("currency is not supported"));
    }
    let country = req_str(&m, "country")?;
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad_request("country must be an ISO 3166-1 alpha-2 code"));
    }
    let method = req_str(&m, "paymentMethod")?;
    if !is_card_method(method) {
        return Err(bad_request("paymentMethod is not a card method"));
    }
    if req_str(&m, "paymentFlow")? != "DIRECT" {
        return Err(bad_request("paymentFlow must be DIRECT for cards"));
    }
    let capture = match m.get("capture") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad_request("capture must be a boolean")),
    };
    let payer = check_payer(&m)?;
    let three_ds_requested = match m.get("card3dsInfo") {
        None | Some(Value::Null) => None,
        Some(Value::Object(t)) => match t.get("use3ds") {
            Some(Value::Bool(true)) => Some(str_field(t, "merchantSite3ds")?.map(str::to_owned)),
            Some(Value::Bool(false)) | None => None,
            Some(_) => return Err(bad_request("card3dsInfo.use3ds must be a boolean")),
        },
        Some(_) => return Err(bad_request("card3dsInfo must be an object")),
    };
    let (card, number) = match (m.get("card"), str_field(&m, "cardId")?) {
        (Some(Value::Object(c)), None) => {
            let card_id = {
                let mut st = sim.lock();
                st.next_id += 1;
                format!("sim-card-{:06}", st.next_id)
            };
            let (card, number) = parse_card(c, card_id)?;
            sim.lock()
                .saved_cards
                .insert(card.card_id.clone(), card.clone());
            (card, Some(number))
        }
        (None | Some(Value::Null), Some(id)) => {
            let card = sim
                .lock()
                .saved_cards
                .get(id)
                .cloned()
                .ok_or_else(|| bad_request("cardId not found"))?;
            (card, None)
        }
        _ => return Err(bad_request("exactly one of card or cardId is required")),
    };
    let mut charge = SimCharge {
        key: key.to_owned(),
        amount,
        currency: currency.to_owned(),
        country: country.to_owned(),
        payment_method: method.to_owned(),
        capture,
        status: TransferStatus::Authorized,
        status_code: 200,
        error_msg: None,
        captured: None,
        captures: 0,
        refunded: 0,
        created: now,
        final_status_time: None,
        payer,
        description: str_field(&m, "description")?.map(str::to_owned),
        callback_url: str_field(&m, "callbackUrl")?.map(str::to_owned),
        sub_merchant_id: str_field(&m, "subMerchantId")?.map(str::to_owned),
        card: Some(card),
        three_ds: None,
    };
    match number.as_deref() {
        Some(cards::DECLINE) => {
            charge.status = TransferStatus::Failed;
            charge.status_code = DECLINE_CODE;
            charge.error_msg = Some("Card declined by the issuer (simulated)".into());
            charge.final_status_time = Some(now);
        }
        Some(cards::THREE_DS) => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("127.0.0.1");
            charge.status = TransferStatus::InProgress;
            charge.three_ds = Some(SimThreeDs {
                merchant_site: three_ds_requested.flatten(),
                redirect_url: format!("http://{host}/sim/3ds/{key}"),
            });
        }
        _ if capture => {
            charge.status = TransferStatus::Settled;
            charge.captured = Some(amount);
            charge.captures = 1;
            charge.final_status_time = Some(now);
        }
        _ => {}
    }
    // Nothing has happened yet to a charge awaiting 3-D Secure: its notification comes when
    // the payer passes the challenge.
    let note = if charge.status == TransferStatus::InProgress {
        None
    } else {
        charge.note()
    };
    let json = {
        let mut st = sim.lock();
        // A concurrent request with the same key may have created it meanwhile: it wins.
        if let Some(existing) = st.charges.get(key) {
            return Ok(ok(existing.to_json()));
        }
        let json = charge.to_json();
        st.charges.insert(key.to_owned(), charge);
        json
    };
    if let Some(note) = note {
        sim.deliver(note);
    }
    Ok(ok(json))
}

async fn capture(
    State(sim): State<Simulator>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    reply(
        sim.check_auth(&headers)
            .and_then(|()| capture_charge(&sim, &key, &body)),
    )
}

fn capture_charge(sim: &Simulator, key: &str, body: &[u8]) -> Reply {
    // The body is optional: none captures the whole authorized amount.
    let requested = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        amount_field(&json_body(body)?, "amount")?
    };
    let now = sim.now();
    let validity = sim.validity();
    let (json, note) = {
        let mut st = sim.lock();
        let c = st.charges.get_mut(key).ok_or_else(|| not_found("charge"))?;
        c.refresh(now, validity);
        if c.status != TransferStatus::Authorized || !is_card_method(&c.payment_method) {
            return Err(bad_request(format!(
                "charge is {}; only an AUTHORIZED card charge can be captured",
                c.status.as_str()
            )));
        }
        let amount = requested.unwrap_or(c.amount);
        if amount > c.amount {
            return Err(bad_request("amount exceeds the authorized amount"));
        }
        c.status = TransferStatus::Settled;
        c.captured = Some(amount);
        c.captures += 1;
        c.final_status_time = Some(now);
        (c.to_json(), c.note())
    };
    if let Some(note) = note {
        sim.deliver(note);
    }
    Ok(ok(json))
}

async fn cancel(
    State(sim): State<Simulator>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    reply(
        sim.check_auth(&headers)
            .and_then(|()| cancel_charge(&sim, &key)),
    )
}

fn cancel_charge(sim: &Simulator, key: &str) -> Reply {
    let now = sim.now();
    let validity = sim.validity();
    let mut st = sim.lock();
    let c = st.charges.get_mut(key).ok_or_else(|| not_found("charge"))?;
    c.refresh(now, validity);
    // Seed 003: CREDIT_CARD while AUTHORIZED; PIX_DYNAMIC_QR, BOLETO, PIC_PAY while IN_PROGRESS.
    let cancellable = match c.status {
        TransferStatus::Authorized => is_card_method(&c.payment_method),
        TransferStatus::InProgress => {
            matches!(
                c.payment_method.as_str(),
                "PIX_DYNAMIC_QR" | "BOLETO" | "PIC_PAY"
            )
        }
        _ => false,
    };
    if !cancellable {
        return Err(bad_request(format!(
            "a {} charge in {} cannot be cancelled",
            c.payment_method,
            c.status.as_str()
        )));
    }
    c.status = TransferStatus::Cancelled;
    c.final_status_time = Some(now);
    let (json, note) = (c.to_json(), c.note());
    drop(st);
    if let Some(note) = note {
        sim.deliver(note);
    }
    Ok(ok(json))
}

async fn get_charge(
    State(sim): State<Simulator>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    reply(sim.check_auth(&headers).and_then(|()| {
        let now = sim.now();
        let validity = sim.validity();
        let mut st = sim.lock();
        let c = st
            .charges
            .get_mut(&key)
            .ok_or_else(|| not_found("charge"))?;
        c.refresh(now, validity);
        Ok(ok(c.to_json()))
    }))
}

async fn create_refund(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    reply(
        sim.check_auth(&headers)
            .and_then(|()| new_refund(&sim, &body)),
    )
}

fn new_refund(sim: &Simulator, body: &[u8]) -> Reply {
    let m = json_body(body)?;
    let key = req_str(&m, "idempotencyKey")?;
    let now = sim.now();
    let validity = sim.validity();
    let mut st = sim.lock();
    if let Some(r) = st.refunds.get(key) {
        return Ok(ok(r.to_json()));
    }
    let reference = req_str(&m, "referenceId")?;
    let amount = amount_field(&m, "amount")?.ok_or_else(|| bad_request("amount is required"))?;
    let currency = req_str(&m, "currency")?;
    let country = req_str(&m, "country")?;
    let description = str_field(&m, "description")?.map(str::to_owned);
    let callback_url = str_field(&m, "callbackUrl")?.map(str::to_owned);
    let c = st
        .charges
        .get_mut(reference)
        .ok_or_else(|| bad_request("referenceId does not match a payment"))?;
    c.refresh(now, validity);
    if c.status != TransferStatus::Settled {
        return Err(bad_request(format!(
            "payment is {}; only a SETTLED payment can be refunded",
            c.status.as_str()
        )));
    }
    if currency != c.currency || country != c.country {
        return Err(bad_request("currency and country must be the payment's"));
    }
    let captured = c.captured.unwrap_or(c.amount);
    if amount > captured - c.refunded {
        return Err(bad_request("amount exceeds what can be refunded"));
    }
    c.refunded += amount;
    if c.refunded == captured {
        c.status = TransferStatus::Refunded;
        c.final_status_time = Some(now);
    }
    let refund = SimRefund {
        key: key.to_owned(),
        reference_id: reference.to_owned(),
        payment_method: c.payment_method.clone(),
        amount,
        currency: currency.to_owned(),
        country: country.to_owned(),
        description,
        callback_url,
        created: now,
    };
    let (json, note) = (refund.to_json(), refund.note());
    st.refunds.insert(key.to_owned(), refund);
    drop(st);
    sim.deliver(note);
    Ok(ok(json))
}

async fn get_refund(
    State(sim): State<Simulator>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    reply(sim.check_auth(&headers).and_then(|()| {
        let st = sim.lock();
        let r = st.refunds.get(&key).ok_or_else(|| not_found("refund"))?;
        Ok(ok(r.to_json()))
    }))
}

/// The payer's 3-D Secure page: authenticates at once and links back to the merchant's
/// `merchantSite3ds` (a link, not a redirect, so a test client does not leave loopback).
async fn three_ds_page(State(sim): State<Simulator>, Path(key): Path<String>) -> Response {
    if !sim.complete_three_ds(&key) {
        return (
            StatusCode::NOT_FOUND,
            "no 3-D Secure challenge for this charge",
        )
            .into_response();
    }
    let back = sim
        .lock()
        .charges
        .get(&key)
        .and_then(|c| c.three_ds.as_ref())
        .and_then(|t| t.merchant_site.clone())
        .unwrap_or_default();
    let page = format!(
        "<!DOCTYPE html><html><body><p>3-D Secure passed.</p><a href=\"{}\">Back to the merchant</a></body></html>",
        back.replace('"', "%22").replace('<', "%3C")
    );
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/html")], page).into_response()
}
