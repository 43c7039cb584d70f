//! Injected faults: what an unreliable Sage HR (or the network in front of it) does to
//! requests. Faults are decided before a request reaches the API, so they hit every endpoint
//! alike, unauthenticated requests included, as a rate limiter or load balancer would.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 429 with `Retry-After`.
    RateLimit,
    /// 500 with Sage HR's error envelope.
    ServerError,
    /// A delay of `latency_ms` before the request is served normally.
    Latency,
    /// The connection is closed without a response.
    Drop,
    /// 200 with a body that is not valid JSON.
    Malformed,
}

/// The body of `POST /_sim/{subdomain}/faults`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: FaultKind,
    /// Hit the next `count` matching requests, then expire.
    pub count: Option<u32>,
    /// Hit this share of matching requests (0 < ratio ≤ 1), spread evenly and
    /// deterministically: with 0.25, every fourth request.
    pub ratio: Option<f64>,
    /// Seconds for the `Retry-After` header of `rate_limit` (default 1; 0 sends no header).
    pub retry_after: Option<u64>,
    /// Delay of `latency` faults.
    pub latency_ms: Option<u64>,
    /// Only requests to this endpoint, e.g. `GET /recruitment/positions/{id}/applicants`.
    pub endpoint: Option<String>,
}

impl FaultSpec {
    pub fn validate(&self) -> Result<(), String> {
        if self.count.is_some() && self.ratio.is_some() {
            return Err("give `count` or `ratio`, not both".into());
        }
        if self.count == Some(0) {
            return Err("`count` must be at least 1".into());
        }
        if let Some(r) = self.ratio {
            if !(r > 0.0 && r <= 1.0) {
                return Err("`ratio` must be in (0, 1]".into());
            }
        }
        if self.kind == FaultKind::Latency && self.latency_ms.is_none() {
            return Err("a `latency` fault needs `latency_ms`".into());
        }
        if let Some(e) = &self.endpoint {
            if !crate::api::ENDPOINTS.contains(&e.as_str()) {
                return Err(format!(
                    "unknown endpoint `{e}`; one of: {}",
                    crate::api::ENDPOINTS.join(", ")
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Fault {
    spec: FaultSpec,
    remaining: Option<u32>,
    accumulated: f64,
}

impl Fault {
    /// Whether this fault hits the current request; consumes a count or a share.
    fn fires(&mut self) -> bool {
        if let Some(n) = &mut self.remaining {
            if *n == 0 {
                return false;
            }
            *n -= 1;
            return true;
        }
        if let Some(ratio) = self.spec.ratio {
            self.accumulated += ratio;
            // A small epsilon so that e.g. 0.1 ten times counts as one whole hit.
            if self.accumulated >= 1.0 - 1e-9 {
                self.accumulated -= 1.0;
                return true;
            }
            return false;
        }
        true
    }

    fn expired(&self) -> bool {
        self.remaining == Some(0)
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Serve,
    RateLimit { retry_after: u64 },
    ServerError,
    Drop,
    Malformed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub delay: Duration,
    pub outcome: Outcome,
}

#[derive(Debug, Default)]
pub struct FaultState {
    faults: Vec<Fault>,
}

impl FaultState {
    pub fn add(&mut self, spec: FaultSpec) {
        let remaining = spec.count;
        self.faults.push(Fault {
            spec,
            remaining,
            accumulated: 0.0,
        });
    }

    pub fn clear(&mut self) {
        self.faults.clear();
    }

    pub fn len(&self) -> usize {
        self.faults.len()
    }

    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }

    /// Decides the fate of a request to `endpoint`. Faults are checked in the order they were
    /// added; latencies add up, and the first failing fault that fires decides the outcome
    /// (later ones are not consumed by this request).
    pub fn decide(&mut self, endpoint: &str) -> Decision {
        let mut decision = Decision {
            delay: Duration::ZERO,
            outcome: Outcome::Serve,
        };
        for fault in &mut self.faults {
            if fault
                .spec
                .endpoint
                .as_deref()
                .is_some_and(|e| e != endpoint)
            {
                continue;
            }
            if !fault.fires() {
                continue;
            }
            let outcome = match fault.spec.kind {
                FaultKind::Latency => {
                    decision.delay += Duration::from_millis(fault.spec.latency_ms.unwrap_or(0));
                    continue;
                }
                FaultKind::RateLimit => Outcome::RateLimit {
                    retry_after: fault.spec.retry_after.unwrap_or(1),
                },
                FaultKind::ServerError => Outcome::ServerError,
                FaultKind::Drop => Outcome::Drop,
                FaultKind::Malformed => Outcome::Malformed,
            };
            decision.outcome = outcome;
            break;
        }
        self.faults.retain(|f| !f.expired());
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: FaultKind) -> FaultSpec {
        FaultSpec {
            kind,
            count: None,
            ratio: None,
            retry_after: None,
            latency_ms: None,
            endpoint: None,
        }
    }

    #[test]
    fn count_faults_hit_the_next_n_requests_then_expire() {
        let mut state = FaultState::default();
        state.add(FaultSpec {
            count: Some(2),
            ..spec(FaultKind::ServerError)
        });
        assert_eq!(state.decide("x").outcome, Outcome::ServerError);
        assert_eq!(state.decide("x").outcome, Outcome::ServerError);
        assert_eq!(state.decide("x").outcome, Outcome::Serve);
        assert!(state.is_empty());
    }

    #[test]
    fn ratio_faults_are_spread_evenly() {
        let mut state = FaultState::default();
        state.add(FaultSpec {
            ratio: Some(0.25),
            retry_after: Some(3),
            ..spec(FaultKind::RateLimit)
        });
        let hits: Vec<bool> = (0..8)
            .map(|_| state.decide("x").outcome != Outcome::Serve)
            .collect();
        assert_eq!(hits, [false, false, false, true, false, false, false, true]);
        let mut tenth = FaultState::default();
        tenth.add(FaultSpec {
            ratio: Some(0.1),
            ..spec(FaultKind::Drop)
        });
        assert_eq!(
            (0..100)
                .filter(|_| tenth.decide("x").outcome == Outcome::Drop)
                .count(),
            10
        );
    }

    #[test]
    fn latency_adds_up_and_the_first_failure_wins() {
        let mut state = FaultState::default();
        state.add(FaultSpec {
            latency_ms: Some(5),
            ..spec(FaultKind::Latency)
        });
        state.add(FaultSpec {
            count: Some(1),
            ..spec(FaultKind::Malformed)
        });
        state.add(FaultSpec {
            count: Some(1),
            ..spec(FaultKind::Drop)
        });
        let first = state.decide("x");
        assert_eq!(
            first,
            Decision {
                delay: Duration::from_millis(5),
                outcome: Outcome::Malformed
            }
        );
        // The drop fault was not consumed by the first request.
        assert_eq!(state.decide("x").outcome, Outcome::Drop);
        assert_eq!(state.decide("x").outcome, Outcome::Serve);
    }

    #[test]
    fn endpoint_filters_and_validation() {
        let mut state = FaultState::default();
        state.add(FaultSpec {
            endpoint: Some("GET /recruitment/applicants/{id}".into()),
            ..spec(FaultKind::ServerError)
        });
        assert_eq!(
            state.decide("GET /recruitment/positions").outcome,
            Outcome::Serve
        );
        assert_eq!(
            state.decide("GET /recruitment/applicants/{id}").outcome,
            Outcome::ServerError
        );
        assert!(FaultSpec {
            count: Some(1),
            ratio: Some(0.5),
            ..spec(FaultKind::Drop)
        }
        .validate()
        .is_err());
        assert!(FaultSpec {
            ratio: Some(1.5),
            ..spec(FaultKind::Drop)
        }
        .validate()
        .is_err());
        assert!(spec(FaultKind::Latency).validate().is_err());
        assert!(FaultSpec {
            endpoint: Some("GET /nope".into()),
            ..spec(FaultKind::Drop)
        }
        .validate()
        .is_err());
        assert!(spec(FaultKind::Drop).validate().is_ok());
    }
}
