"""CSV files as spreadsheets save them: the encodings and separators Excel, LibreOffice and
Numbers write (`decode_csv`, `sniff_delimiter`), for the files people hand to cfexport (a round's
people) or hand back (a round's index opened and saved again)."""

from __future__ import annotations

import codecs
import csv

from cfexport.text import DecodeError, decode


def decode_csv(data: bytes) -> str:
    """UTF-16 with a byte-order mark (Excel's "Unicode Text"), else strict UTF-8 (BOM or not)."""
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom) and not data.startswith(codecs.BOM_UTF32_LE):
            body = data[len(bom):]
            try:
                return body.decode(encoding)
            except UnicodeDecodeError as exc:
                line = body[: exc.start].decode(encoding, "replace").count("\n") + 1
                raise DecodeError(line, f"not valid UTF-16 (at byte position {exc.start + len(bom)}); re-save the "
                                        "file as CSV UTF-8") from None
    if b"\x00" in data[:4096]:
        raise DecodeError(1, "the file looks like UTF-16 without a byte-order mark, or is not text; re-save it "
                             "as CSV UTF-8")
    return decode(data)


def sniff_delimiter(header_line: str) -> str:
    """The separator the header line uses: comma, semicolon or tab."""
    try:
        return csv.Sniffer().sniff(header_line, delimiters=",;\t").delimiter
    except csv.Error:
        return ","
