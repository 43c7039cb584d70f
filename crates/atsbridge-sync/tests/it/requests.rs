//! Sync requests and the id of the run that serves them.

use atsbridge_model::Timestamp;
use atsbridge_sync::{requested_run_id, Outcome};
use tokio_util::sync::CancellationToken;

use crate::helpers::{each_backend, INTEGRATION};

/// A sync requested while another node holds the lease is served later under the id derived
/// from the request: the id `POST /v1/force-sync` answered with, whoever serves it.
#[tokio::test]
async fn a_queued_request_is_served_under_the_id_derived_from_it() {
    each_backend(2, 3, |env| async move {
        let env = &env;
        let cancel = CancellationToken::new();
        let t = Timestamp::now();
        assert!(env
            .store
            .request_sync(INTEGRATION, atsbridge_model::integration::SyncKind::Full, t)
            .await
            .unwrap());
        let expected = requested_run_id(INTEGRATION, t);

        // Another node holds the lease: this node's attempt is busy, the request stays.
        let until = Timestamp::from_unix_millis(t.unix_millis() + 60_000).unwrap();
        assert!(env
            .store
            .try_lease(INTEGRATION, "node-b", t, until)
            .await
            .unwrap());
        let busy = env
            .engine
            .run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &cancel,
            )
            .await;
        assert!(matches!(busy, Ok(Outcome::Busy)), "{busy:?}");
        env.store
            .release_lease(INTEGRATION, "node-b")
            .await
            .unwrap();

        let Ok(Outcome::Ran(run)) = env
            .engine
            .run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &cancel,
            )
            .await
        else {
            panic!("the request was not served");
        };
        assert_eq!(
            run.id, expected,
            "the run serving the request carries its id"
        );
        assert_eq!(run.state.as_str(), "SUCCEEDED");

        // Served: the next run, requested by nobody, is named on its own.
        let Ok(Outcome::Ran(next)) = env
            .engine
            .run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &cancel,
            )
            .await
        else {
            panic!("the second run did not happen");
        };
        assert_ne!(next.id, expected);
    })
    .await;
}
