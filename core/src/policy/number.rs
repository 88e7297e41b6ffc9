//! Exact decimal numbers for the `Numeric*` condition operators.
//!
//! The IAM policy reference describes the numeric operators as comparing a
//! condition key with an integer or decimal value. Policy values and request
//! strings are therefore read as decimals and compared exactly, without
//! floating point: `0.1000000000000000000001` is greater than `0.1`, and
//! `1e-400` is greater than `0`. A request number given as an `f64`
//! ([`ConditionValue::Number`](super::ConditionValue::Number)) is compared by
//! its exact binary value (the `f64` nearest to 0.1 is slightly above the
//! decimal `0.1`).
//!
//! Grammar (after trimming white space, as Rust's `f64` parser without its
//! `inf`/`NaN` words): an optional sign, digits with at most one `.` and at
//! least one digit, then optionally `e` or `E`, an optional sign and at least
//! one digit. A positive exponent above 10^18 makes the text not a number
//! unless every digit is zero; a negative exponent may have any number of
//! digits and is read exactly (every text the earlier `f64` parse accepted
//! is still a number, and `1e-1000000000000000000000` is greater than
//! `2e-1000000000000000000001`).

use alloc::vec::Vec;
use core::cmp::Ordering;

/// The largest positive exponent accepted (the value of the literal after
/// `e`) for a number that is not zero.
const MAX_EXPONENT: i128 = 1_000_000_000_000_000_000;

/// A decimal number `±0.d₁d₂…dₙ × 10^exp`, normalized: `digits` (ASCII)
/// has no leading or trailing zero, and zero has no digits, `neg` false
/// and `exp` 0 (so `-0` equals `0`).
#[derive(Clone, Debug)]
pub(crate) struct Decimal {
    neg: bool,
    digits: Digits,
    exp: Exponent,
}

/// The exponent of a [`Decimal`], exact: `i128` holds every one but those
/// of texts whose negative exponent literal has more than 38 digits.
/// Normalized (`Below` only below `i128::MIN`), so the derived equality
/// and [`Ord`] are those of the numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Exponent {
    Int(i128),
    /// Minus this magnitude (ASCII digits, no leading zero), which is
    /// above 2^127.
    Below(Vec<u8>),
}

impl Exponent {
    /// `delta - e` when `minus`, else `delta + e`, for the ASCII digits
    /// `e`; `e` has at most 38 digits after its leading zeros unless
    /// `minus`.
    fn sum(minus: bool, e: &[u8], delta: i128) -> Exponent {
        let e = &e[e.iter().take_while(|&&d| d == b'0').count()..];
        if e.len() <= 38 {
            // |e| < 10^38 and |delta| < 2^65: no overflow (i128 reaches 1.7e38).
            let v = e.iter().fold(0i128, |v, &d| v * 10 + i128::from(d - b'0'));
            return Exponent::Int(if minus { delta - v } else { delta + v });
        }
        // -(e - delta), e ≥ 10^38 > |delta|: the digits of e - delta.
        let mut mag = e.to_vec();
        let mut carry = -delta;
        for d in mag.iter_mut().rev() {
            if carry == 0 {
                break;
            }
            let v = i128::from(*d - b'0') + carry;
            *d = b'0' + u8::try_from(v.rem_euclid(10)).unwrap_or(0);
            carry = v.div_euclid(10);
        }
        let mut high = Vec::new();
        while carry > 0 {
            high.push(b'0' + u8::try_from(carry % 10).unwrap_or(0));
            carry /= 10;
        }
        high.reverse();
        high.extend_from_slice(&mag);
        let lead = high.iter().take_while(|&&d| d == b'0').count();
        high.drain(..lead);
        let mut v = 0i128;
        for &d in &high {
            match v
                .checked_mul(10)
                .and_then(|v| v.checked_sub(i128::from(d - b'0')))
            {
                Some(n) => v = n,
                None => return Exponent::Below(high),
            }
        }
        Exponent::Int(v)
    }
}

impl Ord for Exponent {
    fn cmp(&self, other: &Exponent) -> Ordering {
        match (self, other) {
            (Exponent::Int(a), Exponent::Int(b)) => a.cmp(b),
            (Exponent::Int(_), Exponent::Below(_)) => Ordering::Greater,
            (Exponent::Below(_), Exponent::Int(_)) => Ordering::Less,
            // The larger magnitude is the smaller exponent.
            (Exponent::Below(a), Exponent::Below(b)) => {
                b.len().cmp(&a.len()).then_with(|| b.cmp(a))
            }
        }
    }
}

impl PartialOrd for Exponent {
    fn partial_cmp(&self, other: &Exponent) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Up to 20 significant digits inline (every `u64`, so the request numbers
/// the service sets need no allocation), more on the heap.
#[derive(Clone, Debug)]
enum Digits {
    Short(u8, [u8; 20]),
    Long(Vec<u8>),
}

impl Digits {
    fn as_slice(&self) -> &[u8] {
        match self {
            Digits::Short(n, buf) => &buf[..usize::from(*n)],
            Digits::Long(v) => v,
        }
    }
}

impl Decimal {
    /// Normalizes `±0.m × 10^point`, where the ASCII digits `m` may have
    /// leading and trailing zeros.
    fn new(neg: bool, m: &[u8], point: i128) -> Decimal {
        Decimal::scaled(neg, m, point, false, b"")
    }

    /// Normalizes `±0.m × 10^(point ± e)` (`-` when `minus`), where the
    /// ASCII digits `m` may have leading and trailing zeros and `e` (ASCII
    /// digits) has at most 38 digits after its leading zeros unless `minus`.
    fn scaled(neg: bool, m: &[u8], point: i128, minus: bool, e: &[u8]) -> Decimal {
        let lead = m.iter().take_while(|&&d| d == b'0').count();
        let sig = &m[lead..];
        let sig = &sig[..sig.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1)];
        let digits = match u8::try_from(sig.len()) {
            Ok(n) if n <= 20 => {
                let mut buf = [0; 20];
                buf[..sig.len()].copy_from_slice(sig);
                Digits::Short(n, buf)
            }
            _ => Digits::Long(sig.to_vec()),
        };
        Decimal {
            neg: neg && !sig.is_empty(),
            digits,
            exp: if sig.is_empty() {
                Exponent::Int(0)
            } else {
                // `lead` is at most the text's length.
                Exponent::sum(minus, e, point - i128::try_from(lead).unwrap_or(0))
            },
        }
    }

    /// Reads a number in the grammar of the module documentation; `None`
    /// for anything else.
    pub(crate) fn parse(text: &str) -> Option<Decimal> {
        let s = text.trim().as_bytes();
        let (neg, s) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let digits = |t: &[u8]| t.iter().take_while(|b| b.is_ascii_digit()).count();
        let (int, rest) = s.split_at(digits(s));
        let (frac, rest) = match rest.split_first() {
            Some((b'.', after)) => after.split_at(digits(after)),
            _ => (&[][..], rest),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let int_len = i128::try_from(int.len()).ok()?;
        let (mut minus, mut e) = (false, &[][..]);
        if let Some((&x, rest)) = rest.split_first() {
            if !matches!(x, b'e' | b'E') {
                return None;
            }
            (minus, e) = match rest.split_first() {
                Some((b'-', e)) => (true, e),
                Some((b'+', e)) => (false, e),
                _ => (false, rest),
            };
            if e.is_empty() || !e.iter().all(u8::is_ascii_digit) {
                return None;
            }
        }
        if int.iter().chain(frac).all(|&d| d == b'0') {
            return Some(Decimal::new(false, &[], 0));
        }
        if !minus {
            let big = e
                .iter()
                .try_fold(0i128, |v, &d| {
                    Some(v.checked_mul(10)? + i128::from(d - b'0')).filter(|&v| v <= MAX_EXPONENT)
                })
                .is_none();
            if big {
                // Beyond every number a policy can mean (f64 read it as
                // infinity, which was refused too).
                return None;
            }
        }
        Some(if frac.is_empty() {
            Decimal::scaled(neg, int, int_len, minus, e)
        } else {
            Decimal::scaled(neg, &[int, frac].concat(), int_len, minus, e)
        })
    }

    /// The exact value of a finite `f64`; infinities compare beyond every
    /// decimal [`parse`](Self::parse) accepts; `None` for NaN.
    pub(crate) fn from_f64(n: f64) -> Option<Decimal> {
        if n.is_nan() {
            return None;
        }
        let neg = n.is_sign_negative();
        if n.is_infinite() {
            return Some(Decimal::new(neg, b"1", i128::MAX));
        }
        // n = ±mantissa × 2^pow2
        let bits = n.to_bits();
        let biased = i64::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
        let fraction = bits & ((1 << 52) - 1);
        let (mut mantissa, mut pow2): (u64, i64) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | 1 << 52, biased - 1075)
        };
        if mantissa == 0 {
            return Some(Decimal::new(false, &[], 0));
        }
        let zeros = mantissa.trailing_zeros();
        mantissa >>= zeros;
        pow2 += i64::from(zeros);
        if (0..=i64::from(mantissa.leading_zeros())).contains(&pow2) {
            // A whole number that fits in u64 (every request number the
            // service sets): its digits, without allocating.
            mantissa <<= pow2;
            let mut buf = [b'0'; 20];
            let mut at = buf.len();
            while mantissa > 0 {
                at -= 1;
                buf[at] += u8::try_from(mantissa % 10).unwrap_or(0);
                mantissa /= 10;
            }
            let len = i128::try_from(buf.len() - at).unwrap_or(0);
            return Some(Decimal::new(neg, &buf[at..], len));
        }
        // Decimal digits (values 0..=9) of the integer, least significant first.
        let mut le = Vec::with_capacity(20);
        while mantissa > 0 {
            le.push(u8::try_from(mantissa % 10).unwrap_or(0));
            mantissa /= 10;
        }
        // m × 2^-k = m × 5^k × 10^-k
        let (base, mut count, scale): (u64, i64, i64) = if pow2 >= 0 {
            (2, pow2, 0)
        } else {
            (5, -pow2, pow2)
        };
        while count > 0 {
            let step = count.min(if base == 2 { 30 } else { 13 });
            count -= step;
            let factor = base.pow(u32::try_from(step).unwrap_or(0));
            let mut carry = 0u64;
            for d in &mut le {
                let v = u64::from(*d) * factor + carry;
                *d = u8::try_from(v % 10).unwrap_or(0);
                carry = v / 10;
            }
            while carry > 0 {
                le.push(u8::try_from(carry % 10).unwrap_or(0));
                carry /= 10;
            }
        }
        let len = i128::try_from(le.len()).unwrap_or(0);
        for d in &mut le {
            *d += b'0';
        }
        le.reverse();
        Some(Decimal::new(neg, &le, len + i128::from(scale)))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Decimal) -> Ordering {
        let sign = |d: &Decimal| match (d.neg, d.digits.as_slice().is_empty()) {
            (_, true) => 0,
            (true, _) => -1,
            (false, _) => 1,
        };
        let magnitude = || {
            self.exp
                .cmp(&other.exp)
                .then_with(|| self.digits.as_slice().cmp(other.digits.as_slice()))
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal if self.neg => magnitude().reverse(),
            Ordering::Equal => magnitude(),
            unequal => unequal,
        }
    }
}

/// Numeric equality (the representation is normalized).
impl PartialEq for Decimal {
    fn eq(&self, other: &Decimal) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Decimal {}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Decimal) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap_or_else(|| panic!("{s:?} is a number"))
    }

    #[test]
    fn signs_zeros_and_leading_zeros() {
        assert_eq!(d("-0"), d("0"));
        assert_eq!(d("+0.000e5"), d("0"));
        assert_eq!(d("-0.0"), d("0e-7"));
        assert_eq!(d("007"), d("7"));
        assert_eq!(d("7."), d("7"));
        assert_eq!(d("+7.000"), d("7"));
        assert_eq!(d(".5"), d("0.5"));
        assert_eq!(d("-.5"), d("-5e-1"));
        assert_eq!(d("000.0012300"), d("1.23e-3"));
        assert_eq!(d("  42\n"), d("42"));
        assert!(d("-1") < d("-0"));
        assert!(d("-0") < d("1e-400"));
        assert!(d("-2") < d("-1.5"));
        assert!(d("-10") < d("-9.99"));
        assert!(d("9.99") < d("10"));
        assert!(d("0.12") < d("0.123"));
    }

    #[test]
    fn exponents_large_and_negative() {
        assert_eq!(d("1e3"), d("1000"));
        assert_eq!(d("1E+3"), d("1000"));
        assert_eq!(d("12345e-2"), d("123.45"));
        assert_eq!(d("0.001e3"), d("1"));
        assert!(d("1e400") > d("9e399"));
        assert!(d("1e400") > d("1.7976931348623157e308"));
        assert!(d("1e-400") > d("0"));
        assert!(d("1e-400") < d("1e-399"));
        assert!(d("-1e400") < d("-1e399"));
        assert_eq!(d("1e1000000000000000000"), d("10e999999999999999999"));
        assert!(d("1e1000000000000000000") > d("9e999999999999999999"));
        assert!(d("1e-1000000000000000000") < d("1e-999999999999999999"));
        // Beyond the exponent range only zero is a number.
        assert_eq!(Decimal::parse("1e1000000000000000001"), None);
        // A smaller magnitude stays a number (the f64 parse read it as 0),
        // above zero and below every number of an exponent in range.
        assert!(d("1e-99999999999999999999999") > d("0"));
        assert!(d("1e-99999999999999999999999") < d("1e-999999999999999999"));
        assert!(d("-1e-99999999999999999999999") < d("-0"));
        assert_eq!(d("0e99999999999999999999999"), d("0"));
    }

    #[test]
    fn exponents_below_minus_10_pow_18_compare_exactly() {
        // Both were read at -10^18 before, so they compared by digits alone.
        assert!(d("1e-1000000000000000000000") > d("2e-1000000000000000000001"));
        assert_eq!(
            d("1e-1000000000000000000000"),
            d("10e-1000000000000000000001")
        );
        assert_eq!(
            d("0.001e-999999999999999999997"),
            d("1e-1000000000000000000000")
        );
        assert!(d("1e-1000000000000000000001") < d("1e-1000000000000000000000"));
        assert!(d("-1e-1000000000000000000001") > d("-1e-1000000000000000000000"));
        assert!(d("9e-1000000000000000000001") < d("1e-1000000000000000000000"));
        assert!(d("1e-1000000000000000000") > d("1e-1000000000000000001"));
        // Exponents beyond i128 (2^127 ≈ 1.7e38), with the digit position
        // carried and borrowed across their digits.
        let e40 = format!("1{}", "0".repeat(40));
        let e40m1 = "9".repeat(40);
        assert_eq!(
            d(&format!("1e-{e40m1}")),
            d(&format!("0.1e-{}8", "9".repeat(39)))
        );
        assert_eq!(
            d(&format!("1e-{e40}")),
            d(&format!("1000e-1{}003", "0".repeat(37)))
        );
        assert_eq!(
            d(&format!("0.01e-{e40m1}")),
            d(&format!("1e-1{}1", "0".repeat(39)))
        );
        assert!(d(&format!("1e-{e40}")) < d(&format!("1e-{e40m1}")));
        assert!(d(&format!("1e-{e40}")) > d(&format!("1e-{e40}1")));
        assert!(d(&format!("1e-{e40}")) > d("0"));
        assert!(d(&format!("1e-{e40}")) < d("1e-170141183460469231731687303715884105728"));
        assert_eq!(
            d("1e-170141183460469231731687303715884105728"),
            d("10e-170141183460469231731687303715884105729")
        );
        assert_eq!(
            d("100e-170141183460469231731687303715884105729"),
            d("0.1e-170141183460469231731687303715884105726")
        );
        assert!(d(&format!("-1e-{e40}")) < d("-0"));
        assert_eq!(d(&format!("0e-{e40}")), d("0"));
        assert_eq!(d(&format!("1e-000{e40}")), d(&format!("1e-{e40}")));
    }

    #[test]
    fn long_digit_strings_compare_exactly() {
        let long = format!("1{}", "0".repeat(5000));
        assert_eq!(d(&long), d("1e5000"));
        let above = format!("0.1{}1", "0".repeat(20));
        assert!(d(&above) > d("0.1"));
        assert!(d("0.1000000000000000000001") > d("0.1"));
        assert!(d("-0.1000000000000000000001") < d("-0.1"));
        let nines = "9".repeat(400);
        assert!(d(&nines) < d("1e400"));
        assert!(d(&format!("{nines}.5")) > d(&nines));
        // f64 rounds both of these to 9007199254740992.
        assert!(d("9007199254740993") > d("9007199254740992"));
    }

    #[test]
    fn invalid_grammar_is_rejected() {
        for s in [
            "", " ", "+", "-", ".", "-.", "e5", ".e1", "1e", "1e+", "1e-", "1.2.3", "1e5.0",
            "1e5e5", "++1", "--1", "+-1", "1-", "1+1", "1 2", "0x10", "inf", "NaN", "1,5", "1_000",
            "١",
        ] {
            assert_eq!(Decimal::parse(s), None, "{s:?}");
        }
    }

    #[test]
    fn f64_values_convert_exactly() {
        assert_eq!(Decimal::from_f64(0.0), Some(d("0")));
        assert_eq!(Decimal::from_f64(-0.0), Some(d("0")));
        assert_eq!(Decimal::from_f64(1.5), Some(d("1.5")));
        assert_eq!(Decimal::from_f64(-1_700_000_000.0), Some(d("-1.7e9")));
        assert_eq!(
            Decimal::from_f64(0.1),
            Some(d(
                "0.1000000000000000055511151231257827021181583404541015625"
            ))
        );
        assert_eq!(
            Decimal::from_f64(2f64.powi(60)),
            Some(d("1152921504606846976"))
        );
        let min = Decimal::from_f64(f64::from_bits(1)).unwrap();
        assert!(min > d("4.9406564584124654e-324") && min < d("4.9406564584124655e-324"));
        let max = Decimal::from_f64(f64::MAX).unwrap();
        assert!(max > d("1.7976931348623157e308") && max < d("1.7976931348623158e308"));
        assert!(max.digits.as_slice().ends_with(b"858368") && max.exp == Exponent::Int(309));
        assert_eq!(Decimal::from_f64(f64::NAN), None);
        let inf = Decimal::from_f64(f64::INFINITY).unwrap();
        assert!(inf > d("1e1000000000000000000") && inf > max);
        let neg_inf = Decimal::from_f64(f64::NEG_INFINITY).unwrap();
        assert!(neg_inf < d("-1e1000000000000000000"));
    }

    /// `m × 2^-j` written out exactly in decimal.
    fn exact_text(neg: bool, m: u64, j: u32) -> String {
        let digits = format!("{:0>w$}", u128::from(m) * 5u128.pow(j), w = j as usize + 1);
        let (int, frac) = digits.split_at(digits.len() - j as usize);
        format!("{}{int}.{frac}", if neg { "-" } else { "" })
    }

    proptest! {
        /// On values f64 holds exactly, the decimal order is the f64 order,
        /// for text read by both parsers and for f64 values converted.
        #[test]
        fn agrees_with_f64_where_f64_is_exact(
            a in (any::<bool>(), 0u64..(1 << 40), 0u32..=20),
            b in (any::<bool>(), 0u64..(1 << 40), 0u32..=20),
            x in any::<f64>(),
            y in any::<f64>(),
        ) {
            let (ta, tb) = (exact_text(a.0, a.1, a.2), exact_text(b.0, b.1, b.2));
            let (fa, fb) = (ta.parse::<f64>().unwrap(), tb.parse::<f64>().unwrap());
            prop_assert_eq!(Some(d(&ta).cmp(&d(&tb))), fa.partial_cmp(&fb));
            prop_assert_eq!(Decimal::from_f64(fa), Some(d(&ta)));
            let (dx, dy) = (Decimal::from_f64(x), Decimal::from_f64(y));
            if let (Some(dx), Some(dy)) = (dx, dy) {
                prop_assert_eq!(Some(dx.cmp(&dy)), x.partial_cmp(&y));
            }
        }

        /// Numbers whose exponents are written with up to 60 digits
        /// (`-(P·10^4 + k)`, P shared or not), compared with an oracle in
        /// `u128`: when both share P the common factor 10^-(P·10^4)
        /// cancels, otherwise the larger exponent magnitude decides.
        #[test]
        fn long_exponents_compare_exactly(
            a in (any::<bool>(), "[0-9]{0,5}", "[0-9]{0,4}", 0u8..10),
            b in (any::<bool>(), "[0-9]{0,5}", "[0-9]{0,4}", 0u8..10),
            (pa, pb) in ("[1-9][0-9]{0,59}", "[1-9][0-9]{0,59}").prop_flat_map(|(p, q)| {
                prop_oneof![Just((p.clone(), p.clone())), Just((p, q))]
            }),
            leading in "0{0,3}",
        ) {
            let text = |(neg, int, frac, k): &(bool, String, String, u8), p: &str| {
                let int = if int.is_empty() && frac.is_empty() { "0" } else { int };
                format!("{}{int}{}{frac}e-{leading}{p}000{k}", if *neg { "-" } else { "+" },
                    if frac.is_empty() { "" } else { "." })
            };
            let (ta, tb) = (text(&a, &pa), text(&b, &pb));
            // ±m × 10^-(k + frac digits) × 10^-(P·10^4)
            let m = |x: &(bool, String, String, u8)| -> u128 {
                format!("0{}{}", x.1, x.2).parse().unwrap()
            };
            let (ma, mb) = (m(&a), m(&b));
            let signed = |neg: bool, o: Ordering| if neg { o.reverse() } else { o };
            let sign = |neg: bool, m: u128| if m == 0 { 0 } else if neg { -1 } else { 1 };
            let expect = match sign(a.0, ma).cmp(&sign(b.0, mb)) {
                Ordering::Equal if ma == 0 => Ordering::Equal,
                Ordering::Equal => {
                    let magnitude = if pa == pb {
                        let (sa, sb) = (u32::from(a.3) + a.2.len() as u32, u32::from(b.3) + b.2.len() as u32);
                        let top = sa.max(sb);
                        (ma * 10u128.pow(top - sa)).cmp(&(mb * 10u128.pow(top - sb)))
                    } else {
                        // A longer or larger P is a smaller number.
                        (pb.len(), &pb).cmp(&(pa.len(), &pa))
                    };
                    signed(a.0, magnitude)
                }
                unequal => unequal,
            };
            prop_assert_eq!(d(&ta).cmp(&d(&tb)), expect, "{} vs {}", ta, tb);
        }

        /// The grammar accepts what Rust's f64 parser accepts, over the
        /// characters the policy engine admits.
        #[test]
        fn grammar_is_rusts(s in "[-+.eE0-9 ]{0,9}") {
            prop_assert_eq!(Decimal::parse(&s).is_some(), s.trim().parse::<f64>().is_ok());
        }
    }
}
