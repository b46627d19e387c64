//! The msgpack form of values: what `DynamicValue.msgpack` carries in both directions.
//!
//! The encoding is driven by the type (from the schema), as in go-cty's `cty/msgpack`:
//! null is nil for every type; unknown is an extension value; a number is an int when it is
//! exactly an `i64`, a float64 when it is exactly a binary float, and otherwise its decimal
//! text; objects carry every attribute of their type; `dynamic` is a two-element array of the
//! concrete type's JSON (as bin) and the value encoded with that type.

use std::collections::BTreeMap;

use rmp::Marker;

use super::error::CtyError;
use super::number::Number;
use super::path::{AttributePath, PathStep};
use super::ty::Type;
use super::value::{dedup_set, unique_positions, Value};
use super::MAX_DEPTH;

/// Ext type 0 with a one-byte payload: the plain "unknown" Terraform writes (`d4 00 00`).
const UNKNOWN_EXT_TYPE: i8 = 0;

/// Encodes `v` as a value of type `ty`.
///
/// Lenient where the intent is clear: a list, set or tuple value may be written as any of the
/// three sequence types, a map or object value as either mapping type, a missing object
/// attribute as null, and a value without a `Dynamic` wrapper as `dynamic` when its type can
/// be inferred ([`Value::implied_type`]). Sets are written de-duplicated. Anything else that
/// does not fit the type is a [`CtyError::Mismatch`].
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, CtyError> {
    let mut out = Vec::new();
    let mut path = AttributePath::root();
    encode_value(&mut out, v, ty, &mut path, 0)?;
    Ok(out)
}

/// Decodes msgpack bytes as a value of type `ty`. The input must hold exactly one value.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CtyError> {
    let mut reader = Reader { buf: bytes, pos: 0 };
    let mut path = AttributePath::root();
    let value = decode_value(&mut reader, ty, &mut path, 0)?;
    let rest = bytes.len().saturating_sub(reader.pos);
    if rest > 0 {
        return Err(CtyError::malformed(
            &path,
            format!("{rest} unexpected bytes after the value"),
        ));
    }
    Ok(value)
}

fn write_failed(path: &AttributePath, e: impl std::fmt::Display) -> CtyError {
    CtyError::malformed(path, format!("msgpack write failed: {e}"))
}

fn len_u32(n: usize, path: &AttributePath) -> Result<u32, CtyError> {
    u32::try_from(n).map_err(|_| CtyError::mismatch(path, "too many elements for msgpack"))
}

fn write_unknown(out: &mut Vec<u8>, path: &AttributePath) -> Result<(), CtyError> {
    rmp::encode::write_ext_meta(out, 1, UNKNOWN_EXT_TYPE).map_err(|e| write_failed(path, e))?;
    out.push(0);
    Ok(())
}

fn write_str(out: &mut Vec<u8>, s: &str, path: &AttributePath) -> Result<(), CtyError> {
    rmp::encode::write_str(out, s).map_err(|e| write_failed(path, e))
}

fn write_number(out: &mut Vec<u8>, n: &Number, path: &AttributePath) -> Result<(), CtyError> {
    if let Some(i) = n.as_i64() {
        rmp::encode::write_sint(out, i).map_err(|e| write_failed(path, e))?;
    } else if let Some(f) = n.to_wire_f64() {
        rmp::encode::write_f64(out, f).map_err(|e| write_failed(path, e))?;
    } else {
        write_str(out, &n.to_string(), path)?;
    }
    Ok(())
}

fn required(ty: &Type) -> String {
    match ty {
        Type::String => "string is required".into(),
        Type::Number => "number is required".into(),
        Type::Bool => "bool is required".into(),
        Type::List(_) => "a list is required".into(),
        Type::Set(_) => "a set is required".into(),
        Type::Map(_) => "a map is required".into(),
        Type::Object(_) => "an object is required".into(),
        Type::Tuple(_) => "a tuple is required".into(),
        Type::Dynamic => "a dynamic value is required".into(),
    }
}

// The recursive codecs are split into one small function per kind so that each nesting level
// costs only two modest stack frames, even in debug builds; error texts are built in cold
// helpers for the same reason.

fn encode_value(
    out: &mut Vec<u8>,
    v: &Value,
    ty: &Type,
    path: &mut AttributePath,
    depth: usize,
) -> Result<(), CtyError> {
    if depth > MAX_DEPTH {
        return Err(CtyError::too_deep(path));
    }
    match (ty, v) {
        (Type::Dynamic, _) => encode_dynamic(out, v, path, depth),
        (_, Value::Unknown) => write_unknown(out, path),
        (_, Value::Null) => rmp::encode::write_nil(out).map_err(|e| write_failed(path, e)),
        (_, Value::Dynamic(_, inner)) => encode_value(out, inner, ty, path, depth + 1),
        (Type::String | Type::Number | Type::Bool, _) => encode_primitive(out, v, ty, path),
        (Type::List(ety) | Type::Set(ety), _) => encode_sequence(out, v, ty, ety, path, depth),
        (Type::Tuple(etys), _) => encode_tuple(out, v, etys, path, depth),
        (Type::Map(ety), _) => encode_map(out, v, ety, path, depth),
        (Type::Object(atys), _) => encode_object(out, v, atys, path, depth),
    }
}

#[cold]
#[inline(never)]
fn kind_mismatch(ty: &Type, v: &Value, path: &AttributePath) -> CtyError {
    CtyError::mismatch(path, format!("{}, got {}", required(ty), v.kind_name()))
}

#[cold]
#[inline(never)]
fn tuple_length_mismatch(want: usize, got: usize, path: &AttributePath) -> CtyError {
    CtyError::mismatch(
        path,
        format!("a tuple of length {want} is required ({got} given)"),
    )
}

#[cold]
#[inline(never)]
fn unsupported_attribute(name: &str, path: &AttributePath) -> CtyError {
    CtyError::mismatch(
        &path.child(PathStep::Attr(name.to_string())),
        "unsupported attribute",
    )
}

fn encode_primitive(
    out: &mut Vec<u8>,
    v: &Value,
    ty: &Type,
    path: &AttributePath,
) -> Result<(), CtyError> {
    match (ty, v) {
        (Type::String, Value::String(s)) => write_str(out, s, path),
        (Type::Number, Value::Number(n)) => write_number(out, n, path),
        (Type::Bool, Value::Bool(b)) => {
            rmp::encode::write_bool(out, *b).map_err(|e| write_failed(path, e))
        }
        _ => Err(kind_mismatch(ty, v, path)),
    }
}

fn encode_sequence(
    out: &mut Vec<u8>,
    v: &Value,
    ty: &Type,
    ety: &Type,
    path: &mut AttributePath,
    depth: usize,
) -> Result<(), CtyError> {
    let (Value::List(items) | Value::Set(items) | Value::Tuple(items)) = v else {
        return Err(kind_mismatch(ty, v, path));
    };
    let positions: Vec<usize> = if matches!(ty, Type::Set(_)) {
        unique_positions(items)
    } else {
        (0..items.len()).collect()
    };
    rmp::encode::write_array_len(out, len_u32(positions.len(), path)?)
        .map_err(|e| write_failed(path, e))?;
    for (i, item) in positions.iter().filter_map(|&p| items.get(p)).enumerate() {
        path.push(PathStep::Index(index_step(i)));
        encode_value(out, item, ety, path, depth + 1)?;
        path.pop();
    }
    Ok(())
}

fn encode_tuple(
    out: &mut Vec<u8>,
    v: &Value,
    etys: &[Type],
    path: &mut AttributePath,
    depth: usize,
) -> Result<(), CtyError> {
    let (Value::List(items) | Value::Set(items) | Value::Tuple(items)) = v else {
        return Err(kind_mismatch(&Type::Tuple(Vec::new()), v, path));
    };
    if items.len() != etys.len() {
        return Err(tuple_length_mismatch(etys.len(), items.len(), path));
    }
    rmp::encode::write_array_len(out, len_u32(items.len(), path)?)
        .map_err(|e| write_failed(path, e))?;
    for (i, (item, ety)) in items.iter().zip(etys).enumerate() {
        path.push(PathStep::Index(index_step(i)));
        encode_value(out, item, ety, path, depth + 1)?;
        path.pop();
    }
    Ok(())
}

fn encode_map(
    out: &mut Vec<u8>,
    v: &Value,
    ety: &Type,
    path: &mut AttributePath,
    depth: usize,
) -> Result<(), CtyError> {
    let (Value::Map(entries) | Value::Object(entries)) = v else {
        return Err(kind_mismatch(&Type::map(Type::Dynamic), v, path));
    };
    rmp::encode::write_map_len(out, len_u32(entries.len(), path)?)
        .map_err(|e| write_failed(path, e))?;
    for (key, item) in entries {
        path.push(PathStep::Key(key.clone()));
        write_str(out, key, path)?;
        encode_value(out, item, ety, path, depth + 1)?;
        path.pop();
    }
    Ok(())
}

fn encode_object(
    out: &mut Vec<u8>,
    v: &Value,
    atys: &BTreeMap<String, Type>,
    path: &mut AttributePath,
    depth: usize,
) -> Result<(), CtyError> {
    let (Value::Object(attrs) | Value::Map(attrs)) = v else {
        return Err(kind_mismatch(&Type::Object(BTreeMap::new()), v, path));
    };
    if let Some(extra) = attrs.keys().find(|k| !atys.contains_key(*k)) {
        return Err(unsupported_attribute(extra, path));
    }
    // go-cty writes every attribute, sorted by name; decoders insist on the count.
    rmp::encode::write_map_len(out, len_u32(atys.len(), path)?)
        .map_err(|e| write_failed(path, e))?;
    for (name, aty) in atys {
        path.push(PathStep::Attr(name.clone()));
        write_str(out, name, path)?;
        let item = attrs.get(name).unwrap_or(&Value::Null);
        encode_value(out, item, aty, path, depth + 1)?;
        path.pop();
    }
    Ok(())
}

fn encode_dynamic(
    out: &mut Vec<u8>,
    v: &Value,
    path: &mut AttributePath,
    depth: usize,
) -> Result<(), CtyError> {
    let (concrete, inner) = match v {
        Value::Null => {
            return rmp::encode::write_nil(out).map_err(|e| write_failed(path, e));
        }
        Value::Unknown => return write_unknown(out, path),
        // A wrapper that says "dynamic" adds nothing; go-cty never writes one.
        Value::Dynamic(Type::Dynamic, inner) => {
            return encode_value(out, inner, &Type::Dynamic, path, depth + 1)
        }
        Value::Dynamic(t, inner) => (t.clone(), inner.as_ref()),
        other => {
            let t = other.implied_type().ok_or_else(|| {
                CtyError::mismatch(
                    path,
                    "cannot infer the type of this dynamic value; wrap it in Value::Dynamic",
                )
            })?;
            (t, other)
        }
    };
    rmp::encode::write_array_len(out, 2).map_err(|e| write_failed(path, e))?;
    rmp::encode::write_bin(out, &concrete.to_json_bytes()).map_err(|e| write_failed(path, e))?;
    encode_value(out, inner, &concrete, path, depth + 1)
}

fn index_step(i: usize) -> i64 {
    i64::try_from(i).unwrap_or(i64::MAX)
}

/// A cursor over the input; every read is bounds-checked.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn truncated(path: &AttributePath) -> CtyError {
        CtyError::malformed(path, "unexpected end of msgpack data")
    }

    fn peek_marker(&self, path: &AttributePath) -> Result<Marker, CtyError> {
        self.buf
            .get(self.pos)
            .map(|&b| Marker::from_u8(b))
            .ok_or_else(|| Reader::truncated(path))
    }

    fn take(&mut self, n: usize, path: &AttributePath) -> Result<&'a [u8], CtyError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| Reader::truncated(path))?;
        let bytes = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| Reader::truncated(path))?;
        self.pos = end;
        Ok(bytes)
    }

    fn take_array<const N: usize>(&mut self, path: &AttributePath) -> Result<[u8; N], CtyError> {
        let bytes = self.take(N, path)?;
        <[u8; N]>::try_from(bytes).map_err(|_| Reader::truncated(path))
    }

    fn u8(&mut self, path: &AttributePath) -> Result<u8, CtyError> {
        Ok(u8::from_be_bytes(self.take_array(path)?))
    }

    fn u16(&mut self, path: &AttributePath) -> Result<u16, CtyError> {
        Ok(u16::from_be_bytes(self.take_array(path)?))
    }

    fn u32(&mut self, path: &AttributePath) -> Result<u32, CtyError> {
        Ok(u32::from_be_bytes(self.take_array(path)?))
    }

    fn u64(&mut self, path: &AttributePath) -> Result<u64, CtyError> {
        Ok(u64::from_be_bytes(self.take_array(path)?))
    }

    fn len32(&mut self, path: &AttributePath) -> Result<usize, CtyError> {
        let n = self.u32(path)?;
        usize::try_from(n).map_err(|_| Reader::truncated(path))
    }

    /// Skips an extension value of any type and length: every extension is "unknown", and
    /// refinements (ext 12) are deliberately dropped.
    fn skip_ext(&mut self, marker: Marker, path: &AttributePath) -> Result<(), CtyError> {
        self.pos += 1;
        let data_len = match marker {
            Marker::FixExt1 => 1,
            Marker::FixExt2 => 2,
            Marker::FixExt4 => 4,
            Marker::FixExt8 => 8,
            Marker::FixExt16 => 16,
            Marker::Ext8 => usize::from(self.u8(path)?),
            Marker::Ext16 => usize::from(self.u16(path)?),
            _ => self.len32(path)?,
        };
        // One byte of extension type, then the payload.
        self.take(1 + data_len, path)?;
        Ok(())
    }

    /// Reads a str or bin (go-cty's decoder takes either wherever it wants bytes or text).
    fn bytes(
        &mut self,
        marker: Marker,
        path: &AttributePath,
    ) -> Result<Option<&'a [u8]>, CtyError> {
        let len = match marker {
            Marker::FixStr(n) => {
                self.pos += 1;
                usize::from(n)
            }
            Marker::Str8 | Marker::Bin8 => {
                self.pos += 1;
                usize::from(self.u8(path)?)
            }
            Marker::Str16 | Marker::Bin16 => {
                self.pos += 1;
                usize::from(self.u16(path)?)
            }
            Marker::Str32 | Marker::Bin32 => {
                self.pos += 1;
                self.len32(path)?
            }
            _ => return Ok(None),
        };
        self.take(len, path).map(Some)
    }

    fn text(&mut self, marker: Marker, path: &AttributePath) -> Result<Option<&'a str>, CtyError> {
        match self.bytes(marker, path)? {
            Some(bytes) => std::str::from_utf8(bytes)
                .map(Some)
                .map_err(|_| CtyError::malformed(path, "invalid UTF-8 in string")),
            None => Ok(None),
        }
    }

    fn array_len(
        &mut self,
        marker: Marker,
        path: &AttributePath,
    ) -> Result<Option<usize>, CtyError> {
        let len = match marker {
            Marker::FixArray(n) => {
                self.pos += 1;
                usize::from(n)
            }
            Marker::Array16 => {
                self.pos += 1;
                usize::from(self.u16(path)?)
            }
            Marker::Array32 => {
                self.pos += 1;
                self.len32(path)?
            }
            _ => return Ok(None),
        };
        Ok(Some(len))
    }

    fn map_len(&mut self, marker: Marker, path: &AttributePath) -> Result<Option<usize>, CtyError> {
        let len = match marker {
            Marker::FixMap(n) => {
                self.pos += 1;
                usize::from(n)
            }
            Marker::Map16 => {
                self.pos += 1;
                usize::from(self.u16(path)?)
            }
            Marker::Map32 => {
                self.pos += 1;
                self.len32(path)?
            }
            _ => return Ok(None),
        };
        Ok(Some(len))
    }

    /// Room for `n` elements, but never more than the input could hold (each element takes
    /// at least a byte), so a lying length cannot make us allocate gigabytes.
    fn capacity_for(&self, n: usize) -> usize {
        n.min(self.remaining())
    }
}

fn is_ext(marker: Marker) -> bool {
    matches!(
        marker,
        Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32
    )
}

/// The error for input of the wrong kind; a byte that is no msgpack marker at all is
/// malformed rather than mismatched.
#[cold]
#[inline(never)]
fn wrong_kind(marker: Marker, ty: &Type, path: &AttributePath) -> CtyError {
    if marker == Marker::Reserved {
        CtyError::malformed(path, "invalid msgpack marker 0xc1")
    } else {
        CtyError::mismatch(path, required(ty))
    }
}

fn decode_value(
    r: &mut Reader<'_>,
    ty: &Type,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Value, CtyError> {
    if depth > MAX_DEPTH {
        return Err(CtyError::too_deep(path));
    }
    let marker = r.peek_marker(path)?;
    if is_ext(marker) {
        r.skip_ext(marker, path)?;
        return Ok(Value::Unknown);
    }
    if marker == Marker::Null {
        r.pos += 1;
        return Ok(Value::Null);
    }
    match ty {
        Type::Dynamic => decode_dynamic(r, marker, path, depth),
        Type::Bool => match marker {
            Marker::True | Marker::False => {
                r.pos += 1;
                Ok(Value::Bool(marker == Marker::True))
            }
            _ => Err(wrong_kind(marker, ty, path)),
        },
        Type::Number => decode_number(r, marker, path).map(Value::Number),
        Type::String => match r.text(marker, path)? {
            Some(s) => Ok(Value::String(s.to_string())),
            None => Err(wrong_kind(marker, ty, path)),
        },
        Type::List(ety) | Type::Set(ety) => decode_sequence(r, marker, ty, ety, path, depth),
        Type::Tuple(etys) => decode_tuple(r, marker, ty, etys, path, depth),
        Type::Map(ety) => decode_map(r, marker, ty, ety, path, depth),
        Type::Object(atys) => decode_object(r, marker, ty, atys, path, depth),
    }
}

fn decode_sequence(
    r: &mut Reader<'_>,
    marker: Marker,
    ty: &Type,
    ety: &Type,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Value, CtyError> {
    let Some(len) = r.array_len(marker, path)? else {
        return Err(wrong_kind(marker, ty, path));
    };
    let mut items = Vec::with_capacity(r.capacity_for(len));
    for i in 0..len {
        path.push(PathStep::Index(index_step(i)));
        items.push(decode_value(r, ety, path, depth + 1)?);
        path.pop();
    }
    Ok(if matches!(ty, Type::Set(_)) {
        Value::Set(dedup_set(items))
    } else {
        Value::List(items)
    })
}

fn decode_tuple(
    r: &mut Reader<'_>,
    marker: Marker,
    ty: &Type,
    etys: &[Type],
    path: &mut AttributePath,
    depth: usize,
) -> Result<Value, CtyError> {
    let Some(len) = r.array_len(marker, path)? else {
        return Err(wrong_kind(marker, ty, path));
    };
    if len != etys.len() {
        return Err(tuple_length_mismatch(etys.len(), len, path));
    }
    let mut items = Vec::with_capacity(len);
    for (i, ety) in etys.iter().enumerate() {
        path.push(PathStep::Index(index_step(i)));
        items.push(decode_value(r, ety, path, depth + 1)?);
        path.pop();
    }
    Ok(Value::Tuple(items))
}

fn decode_map(
    r: &mut Reader<'_>,
    marker: Marker,
    ty: &Type,
    ety: &Type,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Value, CtyError> {
    let Some(len) = r.map_len(marker, path)? else {
        return Err(wrong_kind(marker, ty, path));
    };
    let mut entries = BTreeMap::new();
    for _ in 0..len {
        let key_marker = r.peek_marker(path)?;
        let Some(key) = r.text(key_marker, path)? else {
            return Err(CtyError::mismatch(path, "non-string key in map"));
        };
        path.push(PathStep::Key(key.to_string()));
        // A repeated key keeps the last value, as go-cty's decoder does.
        let item = decode_value(r, ety, path, depth + 1)?;
        path.pop();
        entries.insert(key.to_string(), item);
    }
    Ok(Value::Map(entries))
}

#[cold]
#[inline(never)]
fn attribute_count_mismatch(want: usize, got: usize, path: &AttributePath) -> CtyError {
    CtyError::mismatch(
        path,
        format!("an object with {want} attributes is required ({got} given)"),
    )
}

fn decode_object(
    r: &mut Reader<'_>,
    marker: Marker,
    ty: &Type,
    atys: &BTreeMap<String, Type>,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Value, CtyError> {
    let Some(len) = r.map_len(marker, path)? else {
        return Err(wrong_kind(marker, ty, path));
    };
    // go-cty lets an empty map through as an object with no attributes, a value of the wrong
    // type that fails later; refusing it here gives the clearer message.
    if len != atys.len() {
        return Err(attribute_count_mismatch(atys.len(), len, path));
    }
    let mut attrs = BTreeMap::new();
    for _ in 0..len {
        let key_marker = r.peek_marker(path)?;
        let Some(name) = r.text(key_marker, path)? else {
            return Err(CtyError::mismatch(path, "all keys must be strings"));
        };
        path.push(PathStep::Attr(name.to_string()));
        let Some(aty) = atys.get(name) else {
            return Err(CtyError::mismatch(path, "unsupported attribute"));
        };
        if attrs.contains_key(name) {
            return Err(CtyError::mismatch(path, "duplicate attribute"));
        }
        let item = decode_value(r, aty, path, depth + 1)?;
        path.pop();
        attrs.insert(name.to_string(), item);
    }
    Ok(Value::Object(attrs))
}

fn decode_number(
    r: &mut Reader<'_>,
    marker: Marker,
    path: &AttributePath,
) -> Result<Number, CtyError> {
    let float = |f: f64| {
        if f.is_nan() {
            Err(CtyError::invalid_number(path, "NaN is not a number"))
        } else if f.is_infinite() {
            Ok(if f > 0.0 {
                Number::positive_infinity()
            } else {
                Number::negative_infinity()
            })
        } else {
            Number::from_wire_f64(f).ok_or_else(|| CtyError::invalid_number(path, "invalid float"))
        }
    };
    let n = match marker {
        Marker::FixPos(n) => {
            r.pos += 1;
            Number::from_u64(u64::from(n))
        }
        Marker::FixNeg(n) => {
            r.pos += 1;
            Number::from_i64(i64::from(n))
        }
        Marker::U8 | Marker::U16 | Marker::U32 | Marker::U64 => {
            r.pos += 1;
            Number::from_u64(match marker {
                Marker::U8 => u64::from(r.u8(path)?),
                Marker::U16 => u64::from(r.u16(path)?),
                Marker::U32 => u64::from(r.u32(path)?),
                _ => r.u64(path)?,
            })
        }
        Marker::I8 | Marker::I16 | Marker::I32 | Marker::I64 => {
            r.pos += 1;
            Number::from_i64(match marker {
                Marker::I8 => i64::from(i8::from_be_bytes(r.take_array(path)?)),
                Marker::I16 => i64::from(i16::from_be_bytes(r.take_array(path)?)),
                Marker::I32 => i64::from(i32::from_be_bytes(r.take_array(path)?)),
                _ => i64::from_be_bytes(r.take_array(path)?),
            })
        }
        Marker::F32 => {
            r.pos += 1;
            float(f64::from(f32::from_bits(r.u32(path)?)))?
        }
        Marker::F64 => {
            r.pos += 1;
            float(f64::from_bits(r.u64(path)?))?
        }
        _ => match r.text(marker, path)? {
            Some(text) => Number::parse(text).map_err(|e| e.at(path))?,
            None => return Err(wrong_kind(marker, &Type::Number, path)),
        },
    };
    Ok(n)
}

fn decode_dynamic(
    r: &mut Reader<'_>,
    marker: Marker,
    path: &mut AttributePath,
    depth: usize,
) -> Result<Value, CtyError> {
    match r.array_len(marker, path)? {
        Some(2) => {}
        Some(_) => {
            return Err(CtyError::mismatch(
                path,
                "dynamic value array must have exactly two elements",
            ))
        }
        None => return Err(wrong_kind(marker, &Type::Dynamic, path)),
    }
    let type_marker = r.peek_marker(path)?;
    let Some(type_json) = r.bytes(type_marker, path)? else {
        return Err(CtyError::mismatch(
            path,
            "the type of a dynamic value must be JSON in a bin or str",
        ));
    };
    let ty = Type::from_json_bytes(type_json).map_err(|e| e.at(path))?;
    let inner = decode_value(r, &ty, path, depth + 1)?;
    Ok(match ty {
        Type::Dynamic => inner,
        ty => Value::Dynamic(ty, Box::new(inner)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: &Value, ty: &Type) -> Vec<u8> {
        match encode(v, ty) {
            Ok(b) => b,
            Err(e) => panic!("encode {v:?} as {ty}: {e}"),
        }
    }

    fn dec(b: &[u8], ty: &Type) -> Value {
        match decode(b, ty) {
            Ok(v) => v,
            Err(e) => panic!("decode {b:02x?} as {ty}: {e}"),
        }
    }

    fn num(s: &str) -> Value {
        Value::Number(Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
    }

    fn round_trip(v: &Value, ty: &Type) {
        let bytes = enc(v, ty);
        assert_eq!(&dec(&bytes, ty), v, "{ty}: {bytes:02x?}");
    }

    #[test]
    fn unknown_is_fixext1_type_zero() {
        assert_eq!(enc(&Value::Unknown, &Type::String), [0xd4, 0x00, 0x00]);
        assert_eq!(enc(&Value::Unknown, &Type::Dynamic), [0xd4, 0x00, 0x00]);
    }

    #[test]
    fn null_is_nil_for_every_type() {
        for ty in [
            Type::String,
            Type::Number,
            Type::list(Type::String),
            Type::object([("a", Type::Bool)]),
            Type::Dynamic,
        ] {
            assert_eq!(enc(&Value::Null, &ty), [0xc0]);
            assert_eq!(dec(&[0xc0], &ty), Value::Null);
        }
    }

    #[test]
    fn object_with_null_attribute() {
        let ty = Type::object([("a", Type::String)]);
        let v = Value::object([("a", Value::Null)]);
        assert_eq!(enc(&v, &ty), [0x81, 0xa1, b'a', 0xc0]);
        // An attribute the value leaves out is written as null all the same.
        assert_eq!(
            enc(&Value::object::<String>([]), &ty),
            [0x81, 0xa1, b'a', 0xc0]
        );
        assert_eq!(dec(&[0x81, 0xa1, b'a', 0xc0], &ty), v);
    }

    #[test]
    fn object_attributes_are_written_sorted() {
        let ty = Type::object([("b", Type::Bool), ("a", Type::Number)]);
        let v = Value::object([("b", Value::bool(true)), ("a", Value::number_i64(1))]);
        assert_eq!(enc(&v, &ty), [0x82, 0xa1, b'a', 0x01, 0xa1, b'b', 0xc3]);
    }

    #[test]
    fn dynamic_is_a_type_and_value_pair() {
        let v = Value::dynamic(Type::String, Value::string("hi"));
        let mut expected = vec![0x92, 0xc4, 0x08];
        expected.extend_from_slice(b"\"string\"");
        expected.extend_from_slice(&[0xa2, b'h', b'i']);
        assert_eq!(enc(&v, &Type::Dynamic), expected);
        assert_eq!(dec(&expected, &Type::Dynamic), v);
        // The type may also arrive as a str.
        let mut as_str = vec![0x92, 0xa8];
        as_str.extend_from_slice(b"\"string\"");
        as_str.extend_from_slice(&[0xa2, b'h', b'i']);
        assert_eq!(dec(&as_str, &Type::Dynamic), v);
    }

    #[test]
    fn dynamic_without_wrapper_uses_the_implied_type() {
        let v = Value::list(vec![Value::string("a")]);
        let bytes = enc(&v, &Type::Dynamic);
        assert_eq!(
            dec(&bytes, &Type::Dynamic),
            Value::dynamic(Type::list(Type::String), v)
        );
        let mixed = Value::list(vec![Value::string("a"), Value::bool(true)]);
        assert!(matches!(
            encode(&mixed, &Type::Dynamic),
            Err(CtyError::Mismatch { .. })
        ));
    }

    #[test]
    fn dynamic_nested_in_a_map() {
        let ty = Type::map(Type::Dynamic);
        let v = Value::map([
            ("n", Value::dynamic(Type::Number, Value::number_i64(1))),
            ("s", Value::dynamic(Type::String, Value::Null)),
            ("u", Value::Unknown),
            ("z", Value::Null),
        ]);
        round_trip(&v, &ty);
    }

    #[test]
    fn refined_unknowns_decode_as_unknown() {
        // ext 12, payload {1: false, 2: "ab"}: not null, string prefix "ab".
        let refined = [0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b'];
        assert_eq!(dec(&refined, &Type::String), Value::Unknown);
        assert_eq!(dec(&refined, &Type::Dynamic), Value::Unknown);
        // Any ext type and any length.
        for bytes in [
            vec![0xc7, 0x00, 0x05],
            vec![0xd5, 0x01, 0x00, 0x00],
            vec![0xd6, 0x7f, 1, 2, 3, 4],
            vec![0xd7, 0x00, 0, 0, 0, 0, 0, 0, 0, 0],
            vec![0xd8, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            vec![0xc8, 0x00, 0x01, 0x0c, 0x80],
            vec![0xc9, 0x00, 0x00, 0x00, 0x00, 0x00],
        ] {
            assert_eq!(dec(&bytes, &Type::Number), Value::Unknown, "{bytes:02x?}");
        }
        // Inside an object, refinements are skipped cleanly.
        let ty = Type::object([("a", Type::String), ("b", Type::Bool)]);
        let mut bytes = vec![0x82, 0xa1, b'a'];
        bytes.extend_from_slice(&refined);
        bytes.extend_from_slice(&[0xa1, b'b', 0xc3]);
        assert_eq!(
            dec(&bytes, &ty),
            Value::object([("a", Value::Unknown), ("b", Value::bool(true))])
        );
    }

    #[test]
    fn numbers_take_the_most_exact_encoding() {
        assert_eq!(enc(&num("1"), &Type::Number), [0x01]);
        assert_eq!(enc(&num("-1"), &Type::Number), [0xff]);
        assert_eq!(enc(&num("-0"), &Type::Number), [0x00]);
        assert_eq!(enc(&num("1.0"), &Type::Number), [0x01]);
        let mut one_and_a_half = vec![0xcb];
        one_and_a_half.extend_from_slice(&1.5f64.to_be_bytes());
        assert_eq!(enc(&num("1.5"), &Type::Number), one_and_a_half);
        // Everything else is decimal text, including integers beyond i64 (go-cty would send
        // 1e20 as a float64; text keeps every such integer exact and Terraform reads both).
        let mut big = vec![0xb5];
        big.extend_from_slice(b"100000000000000000000");
        assert_eq!(enc(&num("1e20"), &Type::Number), big);
        let beyond = "18446744073709551617";
        let mut text = vec![0xb4];
        text.extend_from_slice(beyond.as_bytes());
        assert_eq!(enc(&num(beyond), &Type::Number), text);
        let mut tenth = vec![0xa3];
        tenth.extend_from_slice(b"0.1");
        assert_eq!(enc(&num("0.1"), &Type::Number), tenth);
        let huge = enc(&num("1e400"), &Type::Number);
        assert_eq!(huge.get(..3), Some(&[0xda, 0x01, 0x91][..]));
        assert_eq!(huge.len(), 3 + 401);
        let mut inf = vec![0xcb];
        inf.extend_from_slice(&f64::INFINITY.to_be_bytes());
        assert_eq!(
            enc(&Value::Number(Number::positive_infinity()), &Type::Number),
            inf
        );
    }

    #[test]
    fn numbers_decode_from_every_numeric_form() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![0x05], "5"),
            (vec![0xe0], "-32"),
            (vec![0xcc, 0xff], "255"),
            (vec![0xcd, 0x01, 0x00], "256"),
            (vec![0xce, 0, 1, 0, 0], "65536"),
            (
                vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                "18446744073709551615",
            ),
            (vec![0xd0, 0x80], "-128"),
            (vec![0xd1, 0x80, 0x00], "-32768"),
            (vec![0xd2, 0x80, 0, 0, 0], "-2147483648"),
            (
                vec![0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
                "-9223372036854775808",
            ),
            (vec![0xca, 0x3f, 0xc0, 0x00, 0x00], "1.5"),
            ([vec![0xcb], 0.1f64.to_be_bytes().to_vec()].concat(), "0.1"),
            ([vec![0xcb], (-0.0f64).to_be_bytes().to_vec()].concat(), "0"),
            (
                [vec![0xcb], 1e20f64.to_be_bytes().to_vec()].concat(),
                "1e20",
            ),
            (
                [vec![0xcb], 9223372036854775808f64.to_be_bytes().to_vec()].concat(),
                "9223372036854775808",
            ),
            ([vec![0xa4], b"1e-3".to_vec()].concat(), "0.001"),
            ([vec![0xc4, 0x02], b"12".to_vec()].concat(), "12"),
        ];
        for (bytes, expected) in cases {
            assert_eq!(dec(&bytes, &Type::Number), num(expected), "{bytes:02x?}");
        }
        let inf = [vec![0xcb], f64::NEG_INFINITY.to_be_bytes().to_vec()].concat();
        assert_eq!(
            dec(&inf, &Type::Number),
            Value::Number(Number::negative_infinity())
        );
    }

    #[test]
    fn number_edge_cases_round_trip() {
        for n in [
            "0",
            "-1",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "18446744073709551615",
            "123456789012345678901234567890",
            "1.5",
            "0.1",
            "-2.5e-7",
            "1e400",
            "1e-400",
            "0.1000000000000000055511151231257827021181583404541015625",
            "3.141592653589793238462643383279502884197",
        ] {
            round_trip(&num(n), &Type::Number);
        }
    }

    #[test]
    fn round_trips_for_every_type() {
        let obj_ty = Type::object([
            ("s", Type::String),
            ("n", Type::Number),
            ("b", Type::Bool),
            ("l", Type::list(Type::String)),
            ("set", Type::set(Type::Number)),
            ("m", Type::map(Type::Bool)),
            ("t", Type::tuple(vec![Type::String, Type::Number])),
            ("o", Type::object([("x", Type::String)])),
            ("d", Type::Dynamic),
        ]);
        let v = Value::object([
            ("s", Value::string("héllo")),
            ("n", num("-12.75")),
            ("b", Value::bool(false)),
            (
                "l",
                Value::list(vec![Value::string("a"), Value::Null, Value::Unknown]),
            ),
            (
                "set",
                Value::set(vec![Value::number_i64(3), Value::number_i64(1)]),
            ),
            (
                "m",
                Value::map([("k", Value::bool(true)), ("u", Value::Unknown)]),
            ),
            (
                "t",
                Value::tuple(vec![Value::string("x"), Value::number_i64(2)]),
            ),
            ("o", Value::object([("x", Value::Unknown)])),
            (
                "d",
                Value::dynamic(
                    Type::object([("q", Type::list(Type::Dynamic))]),
                    Value::object([(
                        "q",
                        Value::list(vec![Value::dynamic(Type::Bool, Value::bool(true))]),
                    )]),
                ),
            ),
        ]);
        round_trip(&v, &obj_ty);
        round_trip(&Value::null_object(&obj_ty), &obj_ty);
        round_trip(&Value::unknown_object(&obj_ty), &obj_ty);
        round_trip(&Value::list(vec![]), &Type::list(Type::String));
        round_trip(&Value::Set(vec![]), &Type::set(Type::String));
        round_trip(&Value::Map(BTreeMap::new()), &Type::map(Type::String));
        round_trip(
            &Value::Object(BTreeMap::new()),
            &Type::Object(BTreeMap::new()),
        );
        round_trip(&Value::Tuple(vec![]), &Type::Tuple(vec![]));
        round_trip(&Value::string("x".repeat(70_000)), &Type::String);
        let long: Vec<Value> = (0..70_000).map(Value::number_i64).collect();
        round_trip(&Value::list(long), &Type::list(Type::Number));
    }

    #[test]
    fn sets_are_deduplicated_on_decode_and_encode() {
        let ty = Type::set(Type::String);
        let dup = [0x93, 0xa1, b'a', 0xa1, b'b', 0xa1, b'a'];
        assert_eq!(
            dec(&dup, &ty),
            Value::set(vec![Value::string("a"), Value::string("b")])
        );
        assert_eq!(
            enc(
                &Value::Set(vec![Value::string("a"), Value::string("a")]),
                &ty
            ),
            [0x91, 0xa1, b'a']
        );
    }

    #[test]
    fn sequences_and_mappings_encode_as_either_kind() {
        let v = Value::list(vec![Value::string("a")]);
        assert_eq!(enc(&v, &Type::set(Type::String)), [0x91, 0xa1, b'a']);
        let m = Value::map([("a", Value::Null)]);
        assert_eq!(
            enc(&m, &Type::object([("a", Type::String)])),
            [0x81, 0xa1, b'a', 0xc0]
        );
    }

    fn err(b: &[u8], ty: &Type) -> CtyError {
        match decode(b, ty) {
            Ok(v) => panic!("decoded {b:02x?} as {ty} to {v:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn objects_need_exactly_their_attributes() {
        let ty = Type::object([("a", Type::String), ("b", Type::String)]);
        let e = err(&[0x81, 0xa1, b'a', 0xc0], &ty);
        assert_eq!(
            e.to_string(),
            "an object with 2 attributes is required (1 given)"
        );
        let e = err(&[0x80], &ty);
        assert_eq!(
            e.message(),
            "an object with 2 attributes is required (0 given)"
        );
        let e = err(&[0x82, 0xa1, b'a', 0xc0, 0xa1, b'c', 0xc0], &ty);
        assert_eq!(e.to_string(), "c: unsupported attribute");
        let e = err(&[0x82, 0xa1, b'a', 0xc0, 0xa1, b'a', 0xc0], &ty);
        assert_eq!(e.to_string(), "a: duplicate attribute");
        let e = err(&[0x82, 0x01, 0xc0, 0xa1, b'a', 0xc0], &ty);
        assert_eq!(e.to_string(), "all keys must be strings");
        let v = Value::object([("a", Value::Null), ("z", Value::Null)]);
        assert_eq!(
            encode(&v, &ty).map_err(|e| e.to_string()),
            Err("z: unsupported attribute".to_string())
        );
    }

    #[test]
    fn wrong_kinds_name_the_path() {
        let ty = Type::object([(
            "resources_monitoring",
            Type::list(Type::object([("memory", Type::Number)])),
        )]);
        let mut bytes = vec![0x81, 0xb4];
        bytes.extend_from_slice(b"resources_monitoring");
        bytes.extend_from_slice(&[0x91, 0x81, 0xa6]);
        bytes.extend_from_slice(b"memory");
        bytes.push(0xc3);
        let e = err(&bytes, &ty);
        assert_eq!(
            e.to_string(),
            "resources_monitoring[0].memory: number is required"
        );
        assert!(matches!(e, CtyError::Mismatch { .. }));

        let e = err(&[0xa1, b'x'], &Type::Bool);
        assert_eq!(e.to_string(), "bool is required");
        let e = err(&[0x01], &Type::String);
        assert_eq!(e.to_string(), "string is required");
        let e = err(&[0x92, 0x01, 0x02], &Type::tuple(vec![Type::Number]));
        assert_eq!(e.to_string(), "a tuple of length 1 is required (2 given)");
        let e = err(&[0x81, 0x01, 0x02], &Type::map(Type::Number));
        assert_eq!(e.to_string(), "non-string key in map");
        let e = err(&[0x91, 0xa1, b'x'], &Type::map(Type::Number));
        assert_eq!(e.to_string(), "a map is required");
        let e = err(&[0x91, 0xa1, b'x'], &Type::list(Type::Number));
        assert_eq!(e.to_string(), r#"[0]: "x" is not a number"#);
        let e = err(&[0xa3, b'a', b'b', b'c'], &Type::Number);
        assert!(matches!(e, CtyError::InvalidNumber { .. }), "{e}");
        let e = err(&[0x91, 0xc3], &Type::list(Type::Number));
        assert_eq!(e.to_string(), "[0]: number is required");
    }

    #[test]
    fn encode_mismatches_name_the_path() {
        let ty = Type::object([("tags", Type::map(Type::String))]);
        let v = Value::object([("tags", Value::map([("env", Value::number_i64(1))]))]);
        assert_eq!(
            encode(&v, &ty).map_err(|e| e.to_string()),
            Err(r#"tags["env"]: string is required, got number"#.to_string())
        );
        assert!(encode(
            &Value::tuple(vec![Value::Null]),
            &Type::tuple(vec![Type::String, Type::String])
        )
        .is_err());
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let ty = Type::object([("a", Type::list(Type::String))]);
        let good = enc(
            &Value::object([("a", Value::list(vec![Value::string("xyz")]))]),
            &ty,
        );
        for cut in 0..good.len() {
            let e = err(good.get(..cut).unwrap_or_default(), &ty);
            assert!(matches!(e, CtyError::Malformed { .. }), "cut {cut}: {e}");
        }
        let e = err(&[0xa2, 0xff, 0xfe], &Type::String);
        assert_eq!(e.to_string(), "invalid UTF-8 in string");
        let e = err(&[0xc1], &Type::String);
        assert!(matches!(e, CtyError::Malformed { .. }));
        let e = err(&[0x01, 0x02], &Type::Number);
        assert_eq!(e.to_string(), "1 unexpected bytes after the value");
        // A length far beyond the input is caught without allocating for it.
        let e = err(&[0xdd, 0xff, 0xff, 0xff, 0xff], &Type::list(Type::Bool));
        assert!(matches!(e, CtyError::Malformed { .. }));
        let e = err(&[0xc9, 0xff, 0xff, 0xff, 0xff, 0x00], &Type::Bool);
        assert!(matches!(e, CtyError::Malformed { .. }));
        let e = err(&[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1], &Type::Number);
        assert_eq!(e.to_string(), "NaN is not a number");
    }

    #[test]
    fn malformed_dynamic_values() {
        let e = err(&[0x91, 0xc0], &Type::Dynamic);
        assert_eq!(
            e.to_string(),
            "dynamic value array must have exactly two elements"
        );
        let e = err(&[0x92, 0x01, 0xc0], &Type::Dynamic);
        assert!(matches!(e, CtyError::Mismatch { .. }));
        let mut bad_type = vec![0x92, 0xc4, 0x07];
        bad_type.extend_from_slice(b"\"float\"");
        bad_type.push(0x01);
        let e = err(&bad_type, &Type::Dynamic);
        assert!(matches!(e, CtyError::InvalidType { .. }));
        let mut wrapped = vec![0x81, 0xa1, b'd'];
        wrapped.extend_from_slice(&bad_type);
        let e = err(&wrapped, &Type::object([("d", Type::Dynamic)]));
        assert!(matches!(e, CtyError::InvalidType { .. }));
        assert_eq!(e.to_string(), r#"d: invalid primitive type name "float""#);
    }

    #[test]
    fn nesting_is_capped() {
        // [["dynamic"-typed value], ...] nested far deeper than MAX_DEPTH.
        let mut bytes = Vec::new();
        for _ in 0..(MAX_DEPTH + 10) {
            bytes.extend_from_slice(&[0x92, 0xc4, 0x09]);
            bytes.extend_from_slice(b"\"dynamic\"");
        }
        bytes.push(0xc0);
        let e = err(&bytes, &Type::Dynamic);
        assert!(matches!(e, CtyError::TooDeep { .. }), "{e}");

        let mut deep = Value::string("x");
        let mut ty = Type::String;
        for _ in 0..(MAX_DEPTH + 10) {
            deep = Value::list(vec![deep]);
            ty = Type::list(ty);
        }
        assert!(matches!(encode(&deep, &ty), Err(CtyError::TooDeep { .. })));
    }
}
