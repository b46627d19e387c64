//! ECDSA P-521/SHA-512 verification: the signature Terraform's AutoMTLS client makes in every TLS
//! handshake, so once per provider process.
//!
//! RustCrypto's `p521` supplies the curve arithmetic. Its own `VerifyingKey::verify` computes
//! `u1·G + u2·Q` as two separate constant-time scalar multiplications (2 × 576 doublings plus
//! table lookups that touch every entry), which made this check the largest CPU cost of a
//! launch: about 1.3 ms of the provider's ~5 ms, inside the TLS handshake Terraform waits on.
//! Verification only handles public values (the certificate's key, the transcript, the
//! signature), so constant time protects nothing here. We compute `u1·G + u2·Q` in one pass
//! instead (Straus–Shamir over width-5 NAF digits: the ~521 doublings are shared and only about
//! one digit in six costs an addition), which halves the time. ring and Go's crypto/ecdsa verify
//! in variable time the same way.
//!
//! The steps around it follow FIPS 186-5 §6.4.2 and the `ecdsa` crate's `verify_prehashed`
//! exactly; the tests check both against `p521`'s own verifier.

use p521::elliptic_curve::group::Group;
use p521::elliptic_curve::ops::{Invert, Reduce};
use p521::elliptic_curve::point::AffineCoordinates;
use p521::elliptic_curve::PrimeField;
use p521::{FieldBytes, ProjectivePoint, Scalar, U576};
use sha2::{Digest, Sha512};

/// NAF window width: odd multiples 1P, 3P, … 15P per point.
const WINDOW: u32 = 5;
const TABLE: usize = 1 << (WINDOW - 2);

/// Whether `signature` (DER `Ecdsa-Sig-Value`) is a valid ECDSA signature of SHA-512(`message`)
/// under `public_key` (a SEC1 point on P-521). Malformed inputs are simply invalid.
pub fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    // Rejects points off the curve and the identity.
    let Ok(key) = p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key) else {
        return false;
    };
    // Rejects r or s outside 1..n.
    let Ok(signature) = p521::ecdsa::Signature::from_der(signature) else {
        return false;
    };
    // bits2field: the 512-bit digest is shorter than the 521-bit group order, so it is taken
    // whole, left-padded to the field size, then reduced mod n.
    let digest = Sha512::digest(message);
    let mut field = FieldBytes::default();
    let pad = field.len() - digest.len();
    field[pad..].copy_from_slice(&digest);
    let z = <Scalar as Reduce<U576>>::reduce_bytes(&field);

    let (r, s) = signature.split_scalars();
    let s_inv = *s.invert();
    let u1 = z * s_inv;
    let u2 = *r * s_inv;
    let q = ProjectivePoint::from(*key.as_affine());
    let point = double_scalar_mul(&u1, &ProjectivePoint::GENERATOR, &u2, &q);
    // The identity's affine x is zero, which never equals r (r is non-zero).
    let x = point.to_affine().x();
    <Scalar as Reduce<U576>>::reduce_bytes(&x) == *r
}

/// `a·p + b·q`, variable time.
fn double_scalar_mul(
    a: &Scalar,
    p: &ProjectivePoint,
    b: &Scalar,
    q: &ProjectivePoint,
) -> ProjectivePoint {
    let (digits_a, digits_b) = (naf(a), naf(b));
    let (table_p, table_q) = (odd_multiples(p), odd_multiples(q));
    let mut acc = ProjectivePoint::IDENTITY;
    for i in (0..digits_a.len().max(digits_b.len())).rev() {
        acc = acc.double();
        for (digits, table) in [(&digits_a, &table_p), (&digits_b, &table_q)] {
            match digits.get(i).copied().unwrap_or(0) {
                0 => {}
                d if d > 0 => acc += table[d.unsigned_abs() as usize / 2],
                d => acc -= table[d.unsigned_abs() as usize / 2],
            }
        }
    }
    acc
}

/// `[1·p, 3·p, 5·p, …]`.
fn odd_multiples(p: &ProjectivePoint) -> [ProjectivePoint; TABLE] {
    let mut table = [*p; TABLE];
    let twice = p.double();
    for i in 1..TABLE {
        table[i] = table[i - 1] + twice;
    }
    table
}

/// Width-`WINDOW` non-adjacent form of `k`, least significant digit first: every digit is zero or
/// odd in `(-2^(WINDOW-1), 2^(WINDOW-1))`, and any two non-zero digits are at least `WINDOW`
/// apart, so `k = Σ digit_i·2^i`.
fn naf(k: &Scalar) -> Vec<i8> {
    // 66 big-endian bytes into little-endian 64-bit limbs; a tenth limb takes the carry that
    // subtracting a negative digit can produce.
    let mut limbs = [0u64; 10];
    for (i, byte) in k.to_repr().iter().rev().enumerate() {
        limbs[i / 8] |= u64::from(*byte) << ((i % 8) * 8);
    }
    let mut digits = Vec::with_capacity(530);
    while limbs.iter().any(|&l| l != 0) {
        let mut digit = 0i8;
        if limbs[0] & 1 == 1 {
            let low = (limbs[0] & ((1 << WINDOW) - 1)) as i8;
            digit = if low >= 1 << (WINDOW - 1) {
                low - (1 << WINDOW)
            } else {
                low
            };
            // k -= digit, leaving the low WINDOW bits zero.
            if digit > 0 {
                sub_small(&mut limbs, u64::from(digit.unsigned_abs()));
            } else {
                add_small(&mut limbs, u64::from(digit.unsigned_abs()));
            }
        }
        digits.push(digit);
        for i in 0..limbs.len() {
            let next = limbs.get(i + 1).map_or(0, |l| l << 63);
            limbs[i] = (limbs[i] >> 1) | next;
        }
    }
    digits
}

fn add_small(limbs: &mut [u64], v: u64) {
    let mut carry = v;
    for limb in limbs.iter_mut() {
        let (sum, overflow) = limb.overflowing_add(carry);
        *limb = sum;
        carry = u64::from(overflow);
        if carry == 0 {
            break;
        }
    }
}

/// Only called with `v <= limbs[0]`'s low bits, so no borrow leaves the number.
fn sub_small(limbs: &mut [u64], v: u64) {
    let mut borrow = v;
    for limb in limbs.iter_mut() {
        let (difference, underflow) = limb.overflowing_sub(borrow);
        *limb = difference;
        borrow = u64::from(underflow);
        if borrow == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p521::ecdsa::signature::{Signer, Verifier};
    use p521::ecdsa::{Signature, SigningKey, VerifyingKey};
    use p521::elliptic_curve::ff::Field;
    use p521::elliptic_curve::rand_core::{OsRng, RngCore};

    fn encoded(key: &SigningKey) -> Vec<u8> {
        VerifyingKey::from(key)
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    fn naf_value(digits: &[i8]) -> Scalar {
        digits.iter().rev().fold(Scalar::ZERO, |acc, &d| {
            let doubled = acc.double();
            let d_abs = Scalar::from_u64(u64::from(d.unsigned_abs()));
            if d < 0 {
                doubled - d_abs
            } else {
                doubled + d_abs
            }
        })
    }

    #[test]
    fn naf_digits_sum_back_to_the_scalar_and_keep_their_shape() {
        let minus_one = -Scalar::ONE;
        let mut scalars = vec![Scalar::ZERO, Scalar::ONE, minus_one, Scalar::from_u64(31)];
        scalars.extend((0..50).map(|_| Scalar::random(&mut OsRng)));
        for k in scalars {
            let digits = naf(&k);
            assert_eq!(naf_value(&digits), k);
            let mut last_non_zero: Option<usize> = None;
            for (i, &d) in digits.iter().enumerate() {
                if d == 0 {
                    continue;
                }
                assert!(
                    d % 2 != 0 && d.unsigned_abs() < 1 << (WINDOW - 1),
                    "digit {d}"
                );
                if let Some(j) = last_non_zero {
                    assert!(i - j >= WINDOW as usize, "digits {j} and {i} too close");
                }
                last_non_zero = Some(i);
            }
            assert!(digits.len() <= 522);
        }
    }

    #[test]
    fn double_scalar_mul_matches_two_constant_time_multiplications() {
        let g = ProjectivePoint::GENERATOR;
        let mut cases = vec![
            (Scalar::ZERO, Scalar::ZERO),
            (Scalar::ONE, Scalar::ZERO),
            (Scalar::ZERO, -Scalar::ONE),
            (-Scalar::ONE, -Scalar::ONE),
        ];
        cases.extend((0..20).map(|_| (Scalar::random(&mut OsRng), Scalar::random(&mut OsRng))));
        for (a, b) in cases {
            let q = g * Scalar::random(&mut OsRng);
            assert_eq!(
                double_scalar_mul(&a, &g, &b, &q).to_affine(),
                (g * a + q * b).to_affine()
            );
        }
        // Q = ±G makes the two tables share points and additions hit doubling and identity.
        let a = Scalar::random(&mut OsRng);
        assert_eq!(
            double_scalar_mul(&a, &g, &a, &-g).to_affine(),
            ProjectivePoint::IDENTITY.to_affine()
        );
        assert_eq!(
            double_scalar_mul(&a, &g, &a, &g).to_affine(),
            (g * a.double()).to_affine()
        );
    }

    #[test]
    fn agrees_with_p521s_own_verifier() {
        for round in 0..20 {
            let key = SigningKey::random(&mut OsRng);
            let mut message = vec![0u8; round * 7];
            OsRng.fill_bytes(&mut message);
            let signature: Signature = key.sign(&message);
            let der = signature.to_der();
            assert!(VerifyingKey::from(&key)
                .verify(&message, &signature)
                .is_ok());
            assert!(verify(&encoded(&key), &message, der.as_bytes()));

            // A flipped bit anywhere in the message or the signature, or another key: both
            // verifiers refuse.
            let mut other = message.clone();
            other.push(1);
            assert!(!verify(&encoded(&key), &other, der.as_bytes()));
            let stranger = SigningKey::random(&mut OsRng);
            assert!(!verify(&encoded(&stranger), &message, der.as_bytes()));
            let mut bytes = der.as_bytes().to_vec();
            let at = (OsRng.next_u32() as usize) % bytes.len();
            bytes[at] ^= 1 << (OsRng.next_u32() % 8);
            let ours = verify(&encoded(&key), &message, &bytes);
            let theirs = Signature::from_der(&bytes)
                .is_ok_and(|s| VerifyingKey::from(&key).verify(&message, &s).is_ok());
            assert_eq!(ours, theirs, "flipped bit at byte {at}");
        }
    }

    #[test]
    fn r_and_s_swapped_or_negated_are_refused() {
        let key = SigningKey::random(&mut OsRng);
        let message = b"TLS 1.3, client CertificateVerify";
        let signature: Signature = key.sign(message);
        let (r, s) = signature.split_scalars();
        let swapped = Signature::from_scalars(s.to_repr(), r.to_repr()).expect("scalars");
        assert!(!verify(
            &encoded(&key),
            message,
            swapped.to_der().as_bytes()
        ));
        // (r, -s) is the other valid-looking ECDSA signature for the same point; plain ECDSA
        // accepts it, as p521 and Go do.
        let negated = Signature::from_scalars(r.to_repr(), (-*s).to_repr()).expect("scalars");
        assert!(verify(&encoded(&key), message, negated.to_der().as_bytes()));
        assert!(VerifyingKey::from(&key).verify(message, &negated).is_ok());
    }
}
