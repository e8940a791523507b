//! Network backends.
