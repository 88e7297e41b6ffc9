//! IAM wildcard matching: `*` matches any run of characters (including none)
//! and `?` matches exactly one character. There is no escape character, as
//! in IAM.

/// True when `text` matches `pattern`, comparing characters exactly.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    glob_by(pattern, text, |a, b| a == b)
}

/// True when `text` matches `pattern`, comparing characters without regard
/// to case (Unicode simple lowercase).
pub(crate) fn glob_ignore_case(pattern: &str, text: &str) -> bool {
    glob_by(pattern, text, char_eq_ignore_case)
}

/// Case-insensitive string equality (Unicode simple lowercase).
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars().count() == b.chars().count()
        && a.chars()
            .zip(b.chars())
            .all(|(x, y)| char_eq_ignore_case(x, y))
}

fn char_eq_ignore_case(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

/// Greedy matching with a single backtrack point: on a mismatch after a `*`,
/// the `*` absorbs one more character. Runs in O(len(pattern) × len(text))
/// time without recursion, so hostile patterns cannot blow the stack. ASCII
/// inputs (the usual case: actions, ARNs, algorithm names) are matched as
/// bytes without allocating.
fn glob_by(pattern: &str, text: &str, eq: impl Fn(char, char) -> bool) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        glob_slice(pattern.as_bytes(), text.as_bytes(), |a, b| {
            eq(char::from(a), char::from(b))
        })
    } else {
        let p: alloc::vec::Vec<char> = pattern.chars().collect();
        let t: alloc::vec::Vec<char> = text.chars().collect();
        glob_slice(&p, &t, eq)
    }
}

/// Pattern units that can stand for `*` and `?`.
trait Unit: Copy {
    fn is(self, c: char) -> bool;
}
impl Unit for u8 {
    fn is(self, c: char) -> bool {
        char::from(self) == c
    }
}
impl Unit for char {
    fn is(self, c: char) -> bool {
        self == c
    }
}

fn glob_slice<T: Unit>(p: &[T], t: &[T], eq: impl Fn(T, T) -> bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position of the last `*` in the pattern and the text index it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(&c) if c.is('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c.is('?') || eq(c, t[ti]) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| c.is('*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert!(glob("*", ""));
        assert!(glob("a*c", "abbbc"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*b*", "abc"));
        assert!(!glob("abc", "ABC"));
        assert!(glob_ignore_case("kms:generate*", "kms:GenerateDataKey"));
        assert!(glob("a*b*c", "aXbYbZc"));
        assert!(!glob("a*b*c", "aXbYbZ"));
        assert!(eq_ignore_case("ÄbC", "äBc"));
        assert!(!eq_ignore_case("ab", "abc"));
        assert!(glob("ü*ß", "üxyß"));
        assert!(glob("?", "ü"));
        assert!(!glob("??", "ü"));
    }
}
