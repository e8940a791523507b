//! State most modems never use, kept off the modem until it is first changed.
//!
//! A fleet holds thousands of idle modems; state such as the SSL socket set is large
//! (kilobytes) and untouched by most of them. [`Lazy`] costs one pointer until the
//! first mutable access allocates the default value; reads before that see a shared
//! default. It is a layout choice only: a modem behaves the same either way.

use std::ops::{Deref, DerefMut};

/// A value that reads as `T::default()` until first written, allocated only then.
#[derive(Debug, Default)]
pub(super) struct Lazy<T: 'static> {
    value: Option<Box<T>>,
}

/// Types with a shared default for a [`Lazy`] not yet written to read from.
pub(super) trait Pristine: Default + Sync + Sized + 'static {
    /// The shared default value.
    fn pristine() -> &'static Self;
}

impl<T: Pristine> Lazy<T> {
    /// Whether the value was ever written (for the layout tests).
    #[cfg(test)]
    pub fn is_allocated(&self) -> bool {
        self.value.is_some()
    }

    /// Back to the default, freeing the allocation.
    pub fn reset(&mut self) {
        self.value = None;
    }
}

impl<T: Pristine> Deref for Lazy<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value.as_deref().unwrap_or_else(|| T::pristine())
    }
}

impl<T: Pristine> DerefMut for Lazy<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.get_or_insert_with(Box::default)
    }
}

/// Implements [`Pristine`] with a process-wide default built on first use.
macro_rules! pristine {
    ($t:ty) => {
        impl $crate::modem::lazy::Pristine for $t {
            fn pristine() -> &'static Self {
                static DEFAULT: std::sync::LazyLock<$t> = std::sync::LazyLock::new(<$t>::default);
                &DEFAULT
            }
        }
    };
}
pub(super) use pristine;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq)]
    struct Counter {
        n: u32,
    }
    pristine!(Counter);

    #[test]
    fn reads_see_the_default_until_the_first_write_allocates() {
        let mut lazy = Lazy::<Counter>::default();
        assert_eq!(lazy.n, 0);
        assert!(!lazy.is_allocated(), "a read allocated");
        lazy.n += 2;
        assert!(lazy.is_allocated());
        assert_eq!(*lazy, Counter { n: 2 });
        lazy.reset();
        assert!(!lazy.is_allocated());
        assert_eq!(lazy.n, 0);
    }
}
