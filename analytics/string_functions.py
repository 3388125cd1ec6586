"""KDA's SUBSTRING and OVERLAY, whose positions below 1 and past the end mean what the KDA SQL reference says,
not what Spark's functions of the same names do (Spark counts a negative position from the end).
"""

from __future__ import annotations

from cauce.analytics.dialect import _PASS, AnalyticsSqlError, Token, _depth, _literal, _quote, _rewrite


def _split(tokens: list[Token], keywords: tuple[str, ...]) -> dict[str, list[Token]]:
    """A call's tokens split at its top-level keywords: {"": before the first, keyword: after it}."""
    parts: dict[str, list[Token]] = {"": []}
    current = ""
    for position, token in enumerate(tokens):
        if token.kind == "word" and token.upper in keywords and _depth(tokens, position) == 0:
            current = token.upper
            parts[current] = []
        else:
            parts[current].append(token)
    return parts


def substring(at: Token, arguments: list[str], tokens: list[list[Token]]) -> str:
    """SUBSTRING(s FROM start [FOR length]), SUBSTRING(s, start [, length]), SUBSTRING(s FROM 'regex') and
    SUBSTRING(s SIMILAR 'before<e>"match<e>"after' ESCAPE '<e>'). A start below 1 counts as 1 with the length
    reduced by 1 - start; past the end the FROM form gives '' and the comma form NULL; a regex or pattern that
    does not match gives NULL."""
    if len(arguments) in (2, 3):
        source, start = arguments[:2]
        positional = _positional(source, start, arguments[2] if len(arguments) == 3 else None)
        return f"CASE WHEN {start} > char_length({source}) THEN NULL ELSE {positional} END"
    if len(arguments) != 1:
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: SUBSTRING takes (s FROM start [FOR length]) or (s, start [, length])")
    parts = _split(tokens[0], ("FROM", "FOR", "SIMILAR", "ESCAPE"))
    source = _rewrite(parts[""])[0]
    if "SIMILAR" in parts:
        if "ESCAPE" not in parts:
            raise AnalyticsSqlError(f"line {at.line}, column {at.column}: SUBSTRING ... SIMILAR needs its ESCAPE character")
        escape = _literal(at, parts["ESCAPE"], "the ESCAPE character")
        regex = _similar_regex(at, _literal(at, parts["SIMILAR"], "the SIMILAR pattern"), escape)
        return f"CASE WHEN {_PASS}rlike({source}, {_quote(regex)}) THEN {_PASS}regexp_extract({source}, {_quote(regex)}, 1) END"
    if not parts.get("FROM") or ("FOR" in parts and not parts["FOR"]):
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: SUBSTRING needs FROM <start or regex> [FOR <length>], a comma or SIMILAR")
    if len(parts["FROM"]) == 1 and parts["FROM"][0].kind == "string":  # the first match of a Java regex
        regex = _quote(_literal(at, parts["FROM"], "the regex"))
        return f"CASE WHEN {_PASS}rlike({source}, {regex}) THEN {_PASS}regexp_extract({source}, {regex}, 0) END"
    length = _rewrite(parts["FOR"])[0] if "FOR" in parts else None
    return _positional(source, _rewrite(parts["FROM"])[0], length)


def _positional(source: str, start: str, length: str | None) -> str:
    if length is None:
        return f"substring({source}, greatest({start}, 1))"
    return f"substring({source}, greatest({start}, 1), greatest({length} - (1 - least({start}, 1)), 0))"


def _similar_regex(at: Token, pattern: str, escape: str) -> str:
    """A SIMILAR TO pattern with its match between escape-quote pairs, as a Java regex matching the whole text
    with the match as group 1 (found anywhere in the text, as the reference's examples show): % is any string, _ any character, an escaped character itself."""
    if len(escape) != 1:
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: SUBSTRING: the ESCAPE is one character")
    out, index, quotes = [], 0, 0
    while index < len(pattern):
        char = pattern[index]
        if char == escape and index + 1 < len(pattern):
            following = pattern[index + 1]
            if following == '"':
                out.append("(" if quotes == 0 else ")")
                quotes += 1
            else:
                out.append("\\" + following if not following.isalnum() else following)
            index += 2
            continue
        out.append({"%": ".*", "_": "."}.get(char, char))
        index += 1
    if quotes != 2:
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: SUBSTRING ... SIMILAR: the pattern {pattern!r} needs its match "
                                f"between two {escape}\" marks")
    return "(?s)" + "".join(out)


def overlay(at: Token, arguments: list[str], tokens: list[list[Token]]) -> str:
    """OVERLAY(original PLACING replacement FROM start [FOR length]): original's first start-1 characters, the
    replacement, then original from start+length (length defaulting to the replacement's); a start below 1
    puts 1-start characters of the replacement before the original, a start past its end appends it."""
    parts = _split(tokens[0], ("PLACING", "FROM", "FOR")) if len(arguments) == 1 else {}
    if "PLACING" not in parts or "FROM" not in parts:
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: OVERLAY takes (original PLACING replacement FROM start [FOR length])")
    original, replacement, start = (_rewrite(parts[k])[0] for k in ("", "PLACING", "FROM"))
    length = _rewrite(parts["FOR"])[0] if "FOR" in parts else f"char_length({replacement})"
    return (f"{_PASS}concat(substring({original}, 1, greatest({start} - 1, 0)), {replacement}, "
            f"substring({original}, greatest({start} + {length}, 1)))")
