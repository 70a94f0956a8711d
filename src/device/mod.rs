//! The reference device: what a real HDL310/HDL410 would route to its own daemons
//! (SPEC §10). Audio settings, room layout, device information, simulated
//! measurements and the change announcements the device makes. Replacing this
//! folder with `[[route]]` entries to the device's services is one move.

pub mod audio;
pub mod room;
