//! The whole preauth-testkit conformance suite against the Onerway simulator over loopback
//! HTTP, through `Arc<dyn PreauthProvider>`.

use crate::common::OnerwayHarness;

async fn onerway() -> OnerwayHarness {
    OnerwayHarness::start().await
}

preauth_testkit::conformance_tests!(onerway);
