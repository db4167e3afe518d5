//! Nothing to build: this crate holds the tests of services together (`tests/api`), so that each
//! service's dev-dependencies name only itself and the test harness.
