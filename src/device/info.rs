//! The reference device's information document (`GET /api/v1/audio/hardware`), with
//! the vendor's field names, from the `[device]` section of the config.

use std::net::{IpAddr, SocketAddr, UdpSocket};

use serde_json::{Value, json};

use crate::config::{DeviceInfo, HardwareComponent};

/// The device's components: as configured, else the model's own — the connect
/// module and one bar per port (port 1 on an HDL310, ports 1 and 2 on an HDL410).
pub(crate) fn hardware_components(info: &DeviceInfo) -> Vec<HardwareComponent> {
    if !info.hardware_components.is_empty() {
        return info.hardware_components.clone();
    }
    let module = HardwareComponent {
        model: "ConnectModule2".into(),
        hardware_id: info.hardware_id.clone(),
        port_number: None,
    };
    let bars = (1..=info.model.bars()).map(|port| HardwareComponent {
        model: "Bar".into(),
        hardware_id: format!("{}-BAR{port}", info.hardware_id),
        port_number: Some(port),
    });
    std::iter::once(module).chain(bars).collect()
}

/// The device information document (`GET /api/v1/audio/hardware`), with the
/// vendor's field names. The enrollment code is only filled in for an admin.
pub(crate) fn hardware_document(info: &DeviceInfo, ip_address: &str, enrollment_code: Option<&str>) -> Value {
    json!({
        "hardwareId": info.hardware_id,
        "model": info.model,
        "firmwareVersion": info.firmware_version,
        "deviceVersion": info.device_version,
        // Deprecated by the vendor ("use device version instead"): its first two parts.
        "deploymentDisplayName": deployment_display_name(&info.device_version),
        "deviceStatus": info.device_status,
        "hardwareComponents": hardware_components(info),
        "ipAddress": ip_address,
        "mac_address": info.mac_address,
        "enrollmentStatus": info.enrollment_status,
        "enrollmentCode": enrollment_code.unwrap_or(""),
    })
}

/// `5.0.123456` → `5.0`, as the vendor's example pairs them.
fn deployment_display_name(device_version: &str) -> String {
    device_version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// The schema of the device information document.
pub(crate) fn hardware_schema() -> Value {
    crate::util::named_json(include_str!("schemas.json"), "hardware")
}

/// The address reported as `ipAddress` when the config says `"auto"`.
pub(crate) fn reported_ip(info: &DeviceInfo, listen: SocketAddr) -> String {
    info.ip_address
        .clone()
        .unwrap_or_else(|| outbound_ip(listen).to_string())
}

/// The address this device reaches its network from (no packet is sent: a UDP
/// `connect` only selects a route). Falls back to the listen address, then loopback.
fn outbound_ip(listen: SocketAddr) -> IpAddr {
    let probe = || -> std::io::Result<IpAddr> {
        let s = UdpSocket::bind("0.0.0.0:0")?;
        s.connect("192.0.2.1:9")?;
        Ok(s.local_addr()?.ip())
    };
    match probe() {
        Ok(ip) if !ip.is_unspecified() => ip,
        _ if !listen.ip().is_unspecified() => listen.ip(),
        _ => IpAddr::from([127, 0, 0, 1]),
    }
}
