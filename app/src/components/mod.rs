//! Small pieces the pages are built from.
pub mod form;
pub mod header;
pub mod layout;
pub mod stripe;
