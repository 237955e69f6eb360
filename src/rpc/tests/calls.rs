//! Request/response calls: round trips, multiplexing, deadlines, overload on both
//! sides, connection failures.
mod common;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use ballast_rpc::{serve, CallError, OnCall, Transport, TransportOptions};
use common::*;

/// Answers after `request[0]` milliseconds, echoing the request.
fn delayed_echo() -> OnCall {
    Rc::new(|req: Vec<u8>| -> Pin<Box<dyn Future<Output = Vec<u8>>>> {
        Box::pin(async move {
            glommio::timer::sleep(Duration::from_millis(req[0] as u64)).await;
            req
        })
    })
}

fn call_server(
    on_call: OnCall,
    opts: TransportOptions,
) -> (ballast_rpc::ServeHandle, std::net::SocketAddr) {
    let l = listener();
    let addr = l.local_addr().unwrap();
    let (_, on_inbound) = recorder();
    (serve(l, 9, on_inbound, on_call, opts), addr)
}

#[test]
fn call_round_trips() {
    run(async {
        let (_h, addr, _) = server(9, TransportOptions::default());
        let t = Transport::new(1, TransportOptions::default());
        let answer = t.call(addr, b"hello".to_vec(), None).await.unwrap();
        assert_eq!(answer, b"echo:hello");
        let big = bytes(3 << 20, 3);
        let answer = t.call(addr, big.clone(), None).await.unwrap();
        assert_eq!(&answer[5..], &big[..]);
        assert_eq!(t.stats().calls_ok, 2);
    });
}

#[test]
fn concurrent_calls_share_one_connection_and_answer_out_of_order() {
    run(async {
        let (h, addr) = call_server(delayed_echo(), TransportOptions::default());
        let t = Transport::new(1, TransportOptions::default());
        let calls: Vec<_> = (0..50u8)
            .map(|i| {
                let t = t.clone();
                // Later calls answer sooner: responses come back in another order.
                let req = vec![50 - i, i, i.wrapping_mul(7)];
                glommio::spawn_local(async move { (req.clone(), t.call(addr, req, None).await) })
            })
            .collect();
        for c in calls {
            let (req, answer) = c.await;
            assert_eq!(answer.unwrap(), req);
        }
        assert_eq!(
            t.stats().connects,
            1,
            "all calls multiplexed on one connection"
        );
        assert_eq!(h.server().stats().calls_answered, 50);
    });
}

#[test]
fn deadline_expiry_times_out_and_frees_the_slot() {
    run(async {
        let (_h, addr) = call_server(never(), TransportOptions::default());
        let t = Transport::new(
            1,
            TransportOptions {
                max_calls_in_flight: 1,
                ..Default::default()
            },
        );
        let r = t
            .call(addr, b"x".to_vec(), Some(Duration::from_millis(30)))
            .await;
        assert_eq!(r, Err(CallError::Timeout));
        // The timed-out call gave its slot back: the next one is not Overloaded.
        let r = t
            .call(addr, b"y".to_vec(), Some(Duration::from_millis(30)))
            .await;
        assert_eq!(r, Err(CallError::Timeout));
        assert_eq!(t.stats().calls_failed, 2);
    });
}

#[test]
fn over_the_in_flight_bound_fails_at_once() {
    run(async {
        let (_h, addr) = call_server(never(), TransportOptions::default());
        let t = Transport::new(
            1,
            TransportOptions {
                max_calls_in_flight: 2,
                ..Default::default()
            },
        );
        let mut a = Box::pin(t.call(addr, b"a".to_vec(), None));
        let mut b = Box::pin(t.call(addr, b"b".to_vec(), None));
        assert!(futures_lite::future::poll_once(&mut a).await.is_none());
        assert!(futures_lite::future::poll_once(&mut b).await.is_none());
        let r = t.call(addr, b"c".to_vec(), None).await;
        assert!(matches!(r, Err(CallError::Overloaded(_))), "{r:?}");
        // A dropped call forgets its slot.
        drop(a);
        let mut c = Box::pin(t.call(addr, b"c".to_vec(), None));
        assert!(futures_lite::future::poll_once(&mut c).await.is_none());
    });
}

#[test]
fn server_refuses_calls_over_its_per_connection_bound() {
    run(async {
        let opts = TransportOptions {
            max_inbound_calls_per_conn: 2,
            ..Default::default()
        };
        let (h, addr) = call_server(never(), opts);
        let t = Transport::new(1, TransportOptions::default());
        let mut a = Box::pin(t.call(addr, b"a".to_vec(), None));
        let mut b = Box::pin(t.call(addr, b"b".to_vec(), None));
        assert!(futures_lite::future::poll_once(&mut a).await.is_none());
        assert!(futures_lite::future::poll_once(&mut b).await.is_none());
        let r = t.call(addr, b"c".to_vec(), None).await;
        assert!(
            matches!(r, Err(CallError::Overloaded(ref why)) if why.contains("running")),
            "{r:?}"
        );
        assert_eq!(h.server().stats().calls_refused_overloaded, 1);
    });
}

#[test]
fn call_to_a_closed_port_fails() {
    run(async {
        let t = Transport::new(1, TransportOptions::default());
        let port = closed_port();
        let r = t.call(port, b"x".to_vec(), None).await;
        assert!(matches!(r, Err(CallError::Connect(_))), "{r:?}");
        assert!(t.stats().connect_failures >= 1);
        // Again, and from a chosen source address: still a connect error (a caller may
        // retry those safely), never a stale "closed" from the dead connection.
        let r = t.call(port, b"x".to_vec(), None).await;
        assert!(matches!(r, Err(CallError::Connect(_))), "{r:?}");
        let from = Transport::new(2, TransportOptions { source_ip: Some("127.0.0.1".parse().unwrap()), ..TransportOptions::default() });
        for i in 0..2 {
            let r = from.call(port, b"x".to_vec(), None).await;
            assert!(matches!(r, Err(CallError::Connect(_))), "attempt {i}: {r:?}");
        }
    });
}

#[test]
fn calls_in_flight_fail_when_the_server_goes_away() {
    run(async {
        let (h, addr) = call_server(never(), TransportOptions::default());
        let t = Transport::new(1, TransportOptions::default());
        let pending = {
            let t = t.clone();
            glommio::spawn_local(async move { t.call(addr, b"x".to_vec(), None).await })
        };
        until(|| h.server().stats().accepted == 1).await;
        drop(h);
        let r = pending.await;
        assert!(matches!(r, Err(CallError::Disconnected(_))), "{r:?}");
        // A new call reconnects (and fails to connect: nothing listens any more).
        let r = t.call(addr, b"y".to_vec(), None).await;
        assert!(matches!(r, Err(CallError::Connect(_))), "{r:?}");
    });
}

#[test]
fn oversized_request_is_refused_locally() {
    run(async {
        let t = Transport::new(
            1,
            TransportOptions {
                max_frame_bytes: 1024,
                ..Default::default()
            },
        );
        let r = t.call(closed_port(), vec![0; 2048], None).await;
        assert!(matches!(r, Err(CallError::TooLarge { .. })), "{r:?}");
    });
}
