//! YabandPay by hand: one endpoint, `{"user","sign","method","time","data"}`, the signature
//! an HMAC-SHA256 over `user`, `method`, `time` and the `data` fields sorted by key and joined
//! as `k=v&…` (values raw); `v3.CreateCardPayments` with `operation` 2, then `v3.Capture`;
//! notifications signed the same way over `data`.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::Sha256;
use time::OffsetDateTime;

use super::{
    BResult, EventView, HoldView, JSON, Pairs, Status, Text, WireRequest, major_trimmed,
    parse_major,
};
use crate::fixture::Order;

const CREATE_CARD_PAYMENTS: &str = "v3.CreateCardPayments";
const CAPTURE: &str = "v3.Capture";

/// The cashier account.
#[derive(Debug, Clone)]
pub struct YabandPayWire {
    /// `{base}/Payments`.
    pub endpoint: String,
    /// The cashier UID.
    pub user: String,
    /// The HMAC key.
    pub secret_key: String,
    /// The notification URL captures carry.
    pub notify_url: String,
}

#[derive(Serialize)]
struct CardInfo<'a> {
    card_holder: &'a str,
    card_number: &'a str,
    expiration_month: &'a str,
    expiration_year: &'a str,
    cvc: &'a str,
}

#[derive(Serialize)]
struct Envelope<'a> {
    user: &'a str,
    sign: &'a str,
    method: &'a str,
    time: i64,
    data: Pairs<'a>,
}

#[derive(Deserialize)]
struct Answer<'a> {
    status: bool,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct PaymentData<'a> {
    #[serde(borrow, default)]
    trade_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    state: Option<Text<'a>>,
    #[serde(borrow, default)]
    amount: Option<Text<'a>>,
    #[serde(borrow, default)]
    currency: Option<Text<'a>>,
    #[serde(borrow, default)]
    url: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct Notify<'a> {
    #[serde(borrow)]
    sign: Text<'a>,
    #[serde(borrow)]
    data: BTreeMap<&'a str, Text<'a>>,
}

const STATES: [(&str, Status); 13] = [
    ("paid", Status::Captured),
    ("completed", Status::Captured),
    ("authorized", Status::Authorized),
    ("pending", Status::Pending),
    ("processing", Status::Pending),
    ("verify", Status::Pending),
    ("new", Status::Pending),
    ("declined", Status::Declined),
    ("failed", Status::Declined),
    ("expired", Status::Expired),
    ("cancelled", Status::Cancelled),
    ("canceled", Status::Cancelled),
    ("refunded", Status::Refunded),
];

fn status_of(state: &str) -> BResult<Status> {
    let state = state.trim();
    STATES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(state))
        .map(|(_, s)| *s)
        .ok_or("unknown state")
}

/// HMAC-SHA256 of `k=v&…` over `pairs` (already sorted by key), lower-case hex.
fn sign(key: &[u8], pairs: &[(&str, &str)]) -> BResult<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| "bad key")?;
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            mac.update(b"&");
        }
        mac.update(k.as_bytes());
        mac.update(b"=");
        mac.update(v.as_bytes());
    }
    Ok(hex::encode(mac.finalize().into_bytes()))
}

impl YabandPayWire {
    /// The cashier the simulator at `base_url` accepts.
    pub fn for_simulator(base_url: &str) -> Self {
        use preauth::yabandpay::simulator::{SIM_SECRET_KEY, SIM_USER};
        YabandPayWire {
            endpoint: format!("{base_url}/Payments"),
            user: SIM_USER.to_owned(),
            secret_key: SIM_SECRET_KEY.to_owned(),
            notify_url: "https://merchant.example/notify".to_owned(),
        }
    }

    fn envelope(
        &self,
        method: &str,
        time: i64,
        sign: &str,
        data: &[(&str, &str)],
    ) -> BResult<WireRequest> {
        let body = serde_json::to_vec(&Envelope {
            user: &self.user,
            sign,
            method,
            time,
            data: Pairs(data),
        })
        .map_err(|_| "cannot serialize the envelope")?;
        Ok(WireRequest::post(self.endpoint.clone()).body(JSON, body))
    }

    /// `v3.CreateCardPayments` with `operation` 2 (authorisation), signed at `now`.
    ///
    /// # Errors
    /// When the card or the envelope cannot be serialized.
    pub fn authorize(&self, o: &Order, now: OffsetDateTime) -> BResult<WireRequest> {
        let month = format!("{:02}", o.exp_month);
        let year = format!("{:04}", o.exp_year);
        let card = serde_json::to_string(&CardInfo {
            card_holder: o.holder_name,
            card_number: o.card_number,
            expiration_month: &month,
            expiration_year: &year,
            cvc: o.card_cvc,
        })
        .map_err(|_| "cannot serialize cardinfo")?;
        let amount = major_trimmed(o.amount_minor);
        let time = now.unix_timestamp();
        let time_text = time.to_string();
        // Sorted by key (byte order), as the SDK's ksort signs them.
        let signed = [
            ("3ds_initiate", "01"),
            ("amount", amount.as_str()),
            ("cardinfo", &card),
            ("currency", o.currency),
            ("description", o.description),
            ("method", CREATE_CARD_PAYMENTS),
            ("notify_url", o.notify_url),
            ("operation", "2"),
            ("order_id", &o.key),
            ("pay_method", "online"),
            ("redirect_url", o.return_url),
            ("request_id", &o.key),
            ("sub_pay_method", "Card"),
            ("time", &time_text),
            ("timeout", "1440"),
            ("user", &self.user),
        ];
        let sign = sign(self.secret_key.as_bytes(), &signed)?;
        // In the order of the docs' parameter table.
        let data = [
            ("pay_method", "online"),
            ("sub_pay_method", "Card"),
            ("operation", "2"),
            ("order_id", o.key.as_str()),
            ("3ds_initiate", "01"),
            ("cardinfo", &card),
            ("amount", &amount),
            ("currency", o.currency),
            ("description", o.description),
            ("timeout", "1440"),
            ("redirect_url", o.return_url),
            ("notify_url", o.notify_url),
            ("request_id", &o.key),
        ];
        self.envelope(CREATE_CARD_PAYMENTS, time, &sign, &data)
    }

    /// `v3.Capture` of everything `hold` holds, under `capture_key`, signed at `now`.
    ///
    /// # Errors
    /// When the envelope cannot be serialized.
    pub fn capture(
        &self,
        hold: &HoldView,
        currency: &str,
        capture_key: &str,
        now: OffsetDateTime,
    ) -> BResult<WireRequest> {
        let amount = major_trimmed(hold.authorized_minor - hold.captured_minor);
        let time = now.unix_timestamp();
        let time_text = time.to_string();
        let signed = [
            ("amount", amount.as_str()),
            ("currency", currency),
            ("description", "capture"),
            ("method", CAPTURE),
            ("notify_url", &self.notify_url),
            ("request_id", capture_key),
            ("time", &time_text),
            ("trade_id", &hold.reference),
            ("user", &self.user),
        ];
        let sign = sign(self.secret_key.as_bytes(), &signed)?;
        let data = [
            ("description", "capture"),
            ("trade_id", hold.reference.as_str()),
            ("amount", &amount),
            ("currency", currency),
            ("notify_url", &self.notify_url),
            ("request_id", capture_key),
        ];
        self.envelope(CAPTURE, time, &sign, &data)
    }

    fn data<'a>(status: u16, body: &'a [u8]) -> BResult<PaymentData<'a>> {
        if !(200..300).contains(&status) {
            return Err("http status is not 2xx");
        }
        let a: Answer<'a> = serde_json::from_slice(body).map_err(|_| "unreadable answer")?;
        if !a.status {
            return Err("refused");
        }
        let data = a.data.ok_or("no data")?;
        serde_json::from_str(data.get()).map_err(|_| "unreadable data")
    }

    fn amount(d: &PaymentData<'_>, currency: &str) -> BResult<Option<i64>> {
        let Some(a) = &d.amount else { return Ok(None) };
        if d.currency
            .as_ref()
            .is_some_and(|c| !c.as_str().trim().eq_ignore_ascii_case(currency))
        {
            return Err("unexpected currency");
        }
        parse_major(a.as_str()).map(Some).ok_or("bad amount")
    }

    /// The hold an authorization answer describes.
    ///
    /// # Errors
    /// A refusal, a decline, an unreadable answer, an unknown state.
    pub fn parse_authorize(&self, status: u16, body: &[u8], o: &Order) -> BResult<HoldView> {
        let d = Self::data(status, body)?;
        let trade_id = d.trade_id.as_ref().ok_or("no trade_id")?;
        let mut status = match &d.state {
            Some(s) => status_of(s.as_str())?,
            None => Status::Pending,
        };
        if status == Status::Pending && d.url.is_some() {
            status = Status::RequiresAction;
        }
        if status == Status::Declined {
            return Err("declined");
        }
        Ok(HoldView {
            reference: trade_id.as_str().to_owned(),
            status,
            authorized_minor: Self::amount(&d, o.currency)?.unwrap_or(o.amount_minor),
            captured_minor: 0,
        })
    }

    /// The hold after a capture answer (`paid`).
    ///
    /// # Errors
    /// A refusal, an unreadable answer, a state other than paid.
    pub fn parse_capture(&self, status: u16, body: &[u8], hold: &HoldView) -> BResult<HoldView> {
        let d = Self::data(status, body)?;
        let status = match &d.state {
            Some(s) => status_of(s.as_str())?,
            None => Status::Captured,
        };
        if status != Status::Captured {
            return Err("not captured");
        }
        Ok(HoldView {
            reference: hold.reference.clone(),
            status,
            authorized_minor: hold.authorized_minor,
            captured_minor: hold.authorized_minor - hold.captured_minor,
        })
    }

    /// Verifies a notification `{"sign","data"}` (HMAC over every `data` key, sorted, empty
    /// values as `key=`, as the SDK verifies) and reads it.
    ///
    /// # Errors
    /// A missing or wrong signature; an unreadable body; an unknown state.
    pub fn verify_webhook(&self, body: &[u8]) -> BResult<EventView> {
        let n: Notify<'_> = serde_json::from_slice(body).map_err(|_| "unreadable notification")?;
        let received = hex::decode(n.sign.as_str()).map_err(|_| "malformed sign")?;
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.secret_key.as_bytes()).map_err(|_| "bad key")?;
        for (i, (k, v)) in n.data.iter().enumerate() {
            if i > 0 {
                mac.update(b"&");
            }
            mac.update(k.as_bytes());
            mac.update(b"=");
            mac.update(v.as_str().as_bytes());
        }
        mac.verify_slice(&received).map_err(|_| "bad signature")?;
        let get = |k: &str| n.data.get(k).map(Text::as_str).filter(|v| !v.is_empty());
        let trade_id = get("trade_id").ok_or("no trade_id")?;
        let status = get("state").map(status_of).transpose()?;
        let amount = match (get("amount"), get("currency")) {
            (Some(a), Some(_)) => Some(parse_major(a).ok_or("bad amount")?),
            _ => None,
        };
        Ok(EventView {
            reference: trade_id.to_owned(),
            status,
            amount_minor: amount,
        })
    }
}
