//! The device's network configuration (`GET /api/v1/network/configuration`), read
//! only: the reported address and MAC from `[device]`, and the subnet mask,
//! gateway and DNS servers from the operating system (Linux `/proc/net/route` and
//! `/etc/resolv.conf`; empty where they cannot be read). The device has one
//! network port, `A`.

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::config::DeviceInfo;

/// The network configuration document.
pub(crate) fn document(info: &DeviceInfo, ip_address: &str) -> Value {
    let routes = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let ip = ip_address.parse::<Ipv4Addr>().ok();
    let (mask, gateway) = ip.map(|ip| routes_for(&routes, ip)).unwrap_or_default();
    json!({"networkConfiguration": [{
        "port": "A",
        "isStatic": info.ip_address.is_some(),
        "ip": ip_address,
        "subnetMask": mask.map(|m| m.to_string()).unwrap_or_default(),
        "gateway": gateway.map(|g| g.to_string()).unwrap_or_default(),
        "dns": name_servers(&resolv),
        "mac": info.mac_address,
    }]})
}

/// An address as `/proc/net/route` writes it: hex of the bytes in memory order.
fn route_addr(hex: &str) -> Option<Ipv4Addr> {
    let n = u32::from_str_radix(hex, 16).ok()?;
    Some(Ipv4Addr::from(n.to_le_bytes()))
}

/// From a `/proc/net/route` table: the mask of the network `ip` is on, and the
/// default gateway of that interface (else of any).
fn routes_for(table: &str, ip: Ipv4Addr) -> (Option<Ipv4Addr>, Option<Ipv4Addr>) {
    let rows: Vec<(String, Ipv4Addr, Ipv4Addr, Ipv4Addr)> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            Some((
                (*f.first()?).to_string(),
                route_addr(f.get(1)?)?,
                route_addr(f.get(2)?)?,
                route_addr(f.get(7)?)?,
            ))
        })
        .collect();
    let on_link = rows
        .iter()
        .find(|(_, dest, _, mask)| !mask.is_unspecified() && u32::from(ip) & u32::from(*mask) == u32::from(*dest));
    let is_default = |(_, dest, gw, mask): &&(String, Ipv4Addr, Ipv4Addr, Ipv4Addr)| {
        dest.is_unspecified() && mask.is_unspecified() && !gw.is_unspecified()
    };
    let gateway = rows
        .iter()
        .filter(is_default)
        .find(|r| on_link.is_some_and(|l| l.0 == r.0))
        .or_else(|| rows.iter().find(is_default))
        .map(|r| r.2);
    (on_link.map(|r| r.3), gateway)
}

/// The `nameserver` lines of a resolv.conf.
fn name_servers(resolv: &str) -> Vec<String> {
    resolv
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .map(str::trim)
        .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
        .map(str::to_string)
        .collect()
}

/// The schema of the network configuration document.
pub(crate) fn schema() -> Value {
    let s = json!({"type": "string"});
    json!({"type": "object", "required": ["networkConfiguration"], "properties": {"networkConfiguration": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["port", "isStatic", "ip", "subnetMask", "gateway", "dns", "mac"],
            "properties": {
                "port": {"type": "string", "enum": ["A"]},
                "isStatic": {"type": "boolean", "description": "The address is configured, not found at run time."},
                "ip": s, "subnetMask": s, "gateway": s,
                "dns": {"type": "array", "items": s},
                "mac": s,
            },
        },
    }}})
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t0000000A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
wlan0\t0002A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0
";

    #[test]
    fn the_mask_and_gateway_come_from_the_route_table() {
        let (mask, gw) = routes_for(TABLE, Ipv4Addr::new(10, 0, 0, 7));
        assert_eq!(mask, Some(Ipv4Addr::new(255, 255, 255, 0)));
        assert_eq!(gw, Some(Ipv4Addr::new(10, 0, 0, 1)));
        let (mask, gw) = routes_for(TABLE, Ipv4Addr::new(192, 168, 2, 9));
        assert_eq!(mask, Some(Ipv4Addr::new(255, 255, 255, 0)));
        assert_eq!(
            gw,
            Some(Ipv4Addr::new(10, 0, 0, 1)),
            "any default route, when its own has none"
        );
        assert_eq!(routes_for(TABLE, Ipv4Addr::new(172, 16, 0, 1)).0, None);
        assert_eq!(routes_for("", Ipv4Addr::LOCALHOST), (None, None));
    }

    #[test]
    fn name_servers_are_the_addresses_of_nameserver_lines() {
        let conf = "# generated\nnameserver 10.0.0.53\nsearch corp\nnameserver  fd00::1 \nnameserver bogus\n";
        assert_eq!(name_servers(conf), ["10.0.0.53", "fd00::1"]);
    }
}
