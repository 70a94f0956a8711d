//! Leaf: per-client-address shares of a limited resource (connections, event
//! streams), so that one address cannot take every place.
//!
//! An IPv4 address counts as itself; an IPv6 address counts with the rest of its
//! /64, because one host can use any address in its /64. A [`Share`] holds one place
//! and gives it back when dropped; the map holds only addresses with places taken.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Which addresses share one count: an IPv4 address, or an IPv6 /64.
fn key_of(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(v4.to_ipv6_mapped()),
            None => u128::from(v6) & !u128::from(u64::MAX),
        },
    }
}

/// Places taken per address, at most `cap` each.
#[derive(Debug)]
pub(crate) struct PerAddress {
    taken: Arc<Mutex<HashMap<u128, usize>>>,
    cap: usize,
}

/// One place of one address; given back on drop.
#[derive(Debug)]
pub(crate) struct Share {
    taken: Arc<Mutex<HashMap<u128, usize>>>,
    key: u128,
}

impl PerAddress {
    /// At most `cap` places per address.
    pub(crate) fn new(cap: usize) -> Self {
        PerAddress {
            taken: Arc::new(Mutex::new(HashMap::new())),
            cap,
        }
    }

    /// A place for `ip`, or `None` when it holds `cap` already.
    pub(crate) fn try_take(&self, ip: IpAddr) -> Option<Share> {
        let key = key_of(ip);
        let mut taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        let count = taken.entry(key).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(Share {
            taken: Arc::clone(&self.taken),
            key,
        })
    }

    /// Places `ip` holds now.
    #[cfg(test)]
    pub(crate) fn held(&self, ip: IpAddr) -> usize {
        let taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        taken.get(&key_of(ip)).copied().unwrap_or(0)
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = taken.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                taken.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn each_address_gets_its_share_and_gets_it_back() {
        let shares = PerAddress::new(2);
        let a = [shares.try_take(ip("10.0.0.1")), shares.try_take(ip("10.0.0.1"))];
        assert!(a.iter().all(Option::is_some));
        assert!(shares.try_take(ip("10.0.0.1")).is_none(), "the third is refused");
        assert!(
            shares.try_take(ip("10.0.0.2")).is_some(),
            "another address is not affected"
        );
        drop(a);
        assert_eq!(shares.held(ip("10.0.0.1")), 0);
        assert!(
            shares.taken.lock().unwrap().is_empty(),
            "no entry is kept for a free address"
        );
        assert!(shares.try_take(ip("10.0.0.1")).is_some());
    }

    #[test]
    fn an_ipv6_slash_64_is_one_address_and_mapped_ipv4_is_ipv4() {
        let shares = PerAddress::new(1);
        let _a = shares.try_take(ip("2001:db8:1:2::1")).unwrap();
        assert!(shares.try_take(ip("2001:db8:1:2:ffff::9")).is_none(), "same /64");
        assert!(shares.try_take(ip("2001:db8:1:3::1")).is_some(), "another /64");
        let _b = shares.try_take(ip("192.0.2.7")).unwrap();
        assert!(shares.try_take(ip("::ffff:192.0.2.7")).is_none(), "the same IPv4 host");
    }
}
