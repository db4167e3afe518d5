//! One module per page (or group of pages), with the server functions it uses beside it.
pub mod auth;
pub mod landing;
pub mod not_found;
pub mod session;
