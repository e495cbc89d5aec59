//! The library's side of the CPU measurements: each provider client's pure, sans-I/O
//! functions over the canned traffic, doing per operation what the client does around its one
//! call to the transport.
//!
//! - authorize: build (validate, map, sign, serialize), the send preparation the client does
//!   before the transport (Liquido: add the cached `Bearer …` value and the API key to the
//!   built request, as `send_api` does), then parse and map the answer into a [`Hold`];
//! - capture: the pre-flight checks (capabilities and the hold state table), build, send
//!   preparation, parse and map;
//! - webhook: verify the signature and parse into a [`Notification`].

use std::sync::Arc;

use preauth::liquido::Liquido;
use preauth::onerway::Onerway;
use preauth::transport::{HttpRequest, HttpResponse};
use preauth::yabandpay::{Prepared, YabandPay};
use preauth::{
    AuthorizeRequest, CaptureRequest, Clock, ExposeSecret, Hold, IdempotencyKey, ManualClock,
    Notification, Operation, PreauthProvider, WebhookRequest,
};

use crate::fixture::{Canned, NOW, Provider};

enum Client {
    Liquido(Liquido),
    Onerway(Onerway),
    YabandPay(YabandPay),
}

/// A library client for one provider, with the canned traffic it works on.
pub struct Lib {
    client: Client,
    request: AuthorizeRequest,
    key: IdempotencyKey,
    capture: CaptureRequest,
    /// `Bearer {token}`, formatted once as the client's token cache holds it.
    bearer: String,
    authorize_answer: HttpResponse,
    capture_answer: HttpResponse,
    webhook_headers: Vec<(String, String)>,
    webhook_body: Vec<u8>,
    /// YabandPay: the authorization built once, for the parse step alone.
    prepared: Option<Prepared>,
}

fn text(e: preauth::Error) -> String {
    e.to_string()
}

impl Lib {
    /// A client configured for the simulator `canned` was recorded from, its clock at
    /// [`NOW`]; the hold to capture is the canned authorization's, parsed once here.
    ///
    /// # Errors
    /// When the client cannot be built or the canned answers do not parse (a bug).
    pub fn new(canned: &Canned) -> Result<Lib, String> {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW));
        let base = canned.base_url.as_str();
        let config = preauth::embedded::config_for(canned.provider.name(), base).map_err(text)?;
        let client = match (canned.provider, config) {
            (Provider::Liquido, preauth::ProviderConfig::Liquido(c)) => {
                Client::Liquido(Liquido::new(c).map_err(text)?.with_clock(clock))
            }
            (Provider::Onerway, preauth::ProviderConfig::Onerway(c)) => {
                Client::Onerway(Onerway::new(c).map_err(text)?.with_clock(clock))
            }
            (Provider::YabandPay, preauth::ProviderConfig::Yabandpay(c)) => {
                Client::YabandPay(YabandPay::new(c).map_err(text)?.with_clock(clock))
            }
            _ => return Err("the facade gave another provider's configuration".into()),
        };
        let request = canned.order.authorize_request().map_err(text)?;
        let key = IdempotencyKey::new(canned.order.key.as_str()).map_err(text)?;
        let capture_key = IdempotencyKey::new(canned.order.capture_key.as_str()).map_err(text)?;
        let mut lib = Lib {
            client,
            request,
            key,
            // Replaced below by the canned authorization's hold.
            capture: CaptureRequest::new(Hold::new(
                "",
                "",
                "",
                preauth::HoldStatus::Pending,
                "",
                preauth::Money::zero(preauth::Currency::EUR),
            )),
            bearer: format!("Bearer {}", canned.token),
            authorize_answer: HttpResponse::new(
                canned.authorize.status,
                canned.authorize.body.clone(),
            ),
            capture_answer: HttpResponse::new(canned.capture.status, canned.capture.body.clone()),
            webhook_headers: canned.webhook_headers.clone(),
            webhook_body: canned.webhook_body.clone(),
            prepared: None,
        };
        if let Client::YabandPay(c) = &lib.client {
            lib.prepared = Some(c.build_authorize(&lib.request).map_err(text)?);
        }
        let (_, hold) = lib.authorize().map_err(text)?;
        lib.capture = CaptureRequest::new(hold).with_idempotency_key(capture_key);
        Ok(lib)
    }

    /// The request the client sends for the canned authorization, and the hold it maps the
    /// canned answer to.
    ///
    /// # Errors
    /// The library's error (never, on the canned traffic).
    pub fn authorize(&self) -> preauth::Result<(HttpRequest, Hold)> {
        match &self.client {
            Client::Liquido(c) => {
                let http = self.authorize_request()?;
                let hold = c.parse_authorize(&self.authorize_answer, self.key.as_str())?;
                Ok((http, hold))
            }
            Client::Onerway(c) => {
                let key = c.authorize_key(&self.request);
                let http = c.build_authorize(&self.request, &key)?;
                let hold = c.parse_authorize(&self.request, &key, &self.authorize_answer)?;
                Ok((http, hold))
            }
            Client::YabandPay(c) => {
                let prepared = c.build_authorize(&self.request)?;
                let hold = c.parse_authorize(&self.request, &prepared, &self.authorize_answer)?;
                Ok((prepared.request, hold))
            }
        }
    }

    /// The authorization's build step alone: validate, map, sign, serialize, prepare to send.
    ///
    /// # Errors
    /// The library's error (never, on the canned traffic).
    pub fn authorize_request(&self) -> preauth::Result<HttpRequest> {
        match &self.client {
            Client::Liquido(c) => {
                let http = c.build_authorize(&self.request, &self.key)?;
                Ok(self.liquido_auth(c, http))
            }
            Client::Onerway(c) => c.build_authorize(&self.request, &c.authorize_key(&self.request)),
            Client::YabandPay(c) => Ok(c.build_authorize(&self.request)?.request),
        }
    }

    /// The authorization's parse step alone: read the canned answer into a [`Hold`].
    ///
    /// # Errors
    /// The library's error (never, on the canned traffic).
    pub fn authorize_answer(&self) -> preauth::Result<Hold> {
        match &self.client {
            Client::Liquido(c) => c.parse_authorize(&self.authorize_answer, self.key.as_str()),
            Client::Onerway(c) => {
                c.parse_authorize(&self.request, &self.key, &self.authorize_answer)
            }
            Client::YabandPay(c) => {
                let prepared = self
                    .prepared
                    .as_ref()
                    .ok_or_else(|| preauth::Error::invalid_request("no prepared request"))?;
                c.parse_authorize(&self.request, prepared, &self.authorize_answer)
            }
        }
    }

    /// The request the client sends for a full capture of the canned hold, and the hold it
    /// maps the canned answer to.
    ///
    /// # Errors
    /// The library's error (never, on the canned traffic).
    pub fn capture(&self) -> preauth::Result<(HttpRequest, Hold)> {
        Ok((self.capture_request()?, self.capture_answer()?))
    }

    /// The capture's build step alone: pre-flight checks, build, sign, serialize, prepare.
    ///
    /// # Errors
    /// The library's error (never, on the canned traffic).
    pub fn capture_request(&self) -> preauth::Result<HttpRequest> {
        let req = &self.capture;
        match &self.client {
            Client::Liquido(c) => {
                // What `Liquido::capture` does before sending.
                preauth::state::check_capture(
                    c.name(),
                    &c.capabilities(),
                    &req.hold,
                    req.amount.as_ref(),
                    NOW,
                )?;
                let http = c.build_capture(&req.hold, req.amount.as_ref())?;
                Ok(self.liquido_auth(c, http))
            }
            Client::Onerway(c) => c.build_capture(req),
            Client::YabandPay(c) => Ok(c.build_capture(req)?.request),
        }
    }

    /// The capture's parse step alone.
    ///
    /// # Errors
    /// The library's error (never, on the canned traffic).
    pub fn capture_answer(&self) -> preauth::Result<Hold> {
        let req = &self.capture;
        match &self.client {
            Client::Liquido(c) => {
                c.parse_follow_up(Operation::Capture, &self.capture_answer, &req.hold)
            }
            Client::Onerway(c) => c.parse_capture(&req.hold, &self.capture_answer),
            Client::YabandPay(c) => c.parse_capture(req, &self.capture_answer),
        }
    }

    /// The canned notification, verified and parsed.
    ///
    /// # Errors
    /// The library's error (never, on the canned traffic).
    pub fn webhook(&self) -> preauth::Result<Notification> {
        let body = &self.webhook_body;
        match &self.client {
            // Only Liquido signs in a header; the others sign inside the body.
            Client::Liquido(c) => {
                let headers: Vec<(&str, &str)> = self
                    .webhook_headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                c.verify_webhook(&WebhookRequest::new(&headers, body))
            }
            Client::Onerway(c) => c.verify_webhook(&WebhookRequest::new(&[], body)),
            Client::YabandPay(c) => c.verify_webhook(&WebhookRequest::new(&[], body)),
        }
    }

    /// What `Liquido::send_api` does to a built request: add the cached `Bearer …` value and
    /// the API key (after a 401 it builds the request again rather than keeping a copy).
    fn liquido_auth(&self, c: &Liquido, http: HttpRequest) -> HttpRequest {
        http.secret_header("authorization", &self.bearer)
            .secret_header("x-api-key", c.config().api_key.expose_secret())
    }
}
