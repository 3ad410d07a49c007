package policy

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The left side of a generic check goes through Python's ast.literal_eval in
// oslo.policy: a literal is compared, as str() prints it, with the right side;
// anything else is looked up in the credentials. These helpers reproduce that
// for the literals a policy can hold in one word: strings, numbers, True,
// False and None.

// pyLiteral returns str() of the Python literal s. ok is false when s is not
// a literal; err is set too when s looks like one but is malformed or of a
// kind glanced does not evaluate (bytes, complex numbers, containers).
func pyLiteral(s string) (lit string, ok bool, err error) {
	switch s {
	case "None", "True", "False":
		return s, true, nil
	case "":
		return "", false, errors.New("empty left side")
	}
	switch {
	case s[0] == '[' || s[0] == '{' || s == "...":
		return "", false, fmt.Errorf("left side %q: glanced compares strings, numbers, True, False and None only", s)
	case startsString(s):
		lit, err = pyStrings(s)
	case startsNumber(s):
		lit, err = pyNumber(s)
	default:
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("left side %q: %w", s, err)
	}
	return lit, true, nil
}

// stringPrefix returns the length of a Python string prefix (r, u, b, f and
// their pairs, any case) that s starts with, if a quote follows it.
func stringPrefix(s string) (n int, ok bool) {
	for n < len(s) && n < 2 && strings.ContainsRune("rRuUbBfF", rune(s[n])) {
		n++
	}
	for ; n >= 0; n-- {
		if n < len(s) && (s[n] == '\'' || s[n] == '"') {
			p := strings.ToLower(s[:n])
			switch p {
			case "", "r", "u", "b", "f", "br", "rb", "fr", "rf":
				return n, true
			}
		}
	}
	return 0, false
}

func startsString(s string) bool { _, ok := stringPrefix(s); return ok }

func startsNumber(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if len(s) > 0 && s[0] == '.' {
		s = s[1:]
	}
	return len(s) > 0 && s[0] >= '0' && s[0] <= '9'
}

// pyStrings evaluates one string literal, or several written together,
// which Python joins into one.
func pyStrings(s string) (string, error) {
	var out strings.Builder
	for s != "" {
		n, ok := stringPrefix(s)
		if !ok {
			return "", errors.New("text after a string")
		}
		prefix := strings.ToLower(s[:n])
		if strings.ContainsAny(prefix, "bf") {
			return "", errors.New("bytes and f-strings are not compared by glanced")
		}
		body, rest, err := splitQuoted(s[n:])
		if err != nil {
			return "", err
		}
		if strings.Contains(prefix, "r") {
			out.WriteString(body)
		} else if err := unescape(&out, body); err != nil {
			return "", err
		}
		s = rest
	}
	return out.String(), nil
}

// splitQuoted returns the body of the quoted string that s starts with and
// what follows it.
func splitQuoted(s string) (body, rest string, err error) {
	q := s[:1]
	if strings.HasPrefix(s, q+q+q) {
		q = q + q + q
	}
	for i := len(q); i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++ // the escaped character never ends the string, even raw
		case strings.HasPrefix(s[i:], q):
			return s[len(q):i], s[i+len(q):], nil
		}
	}
	return "", "", errors.New("unterminated string")
}

// unescape writes body with Python's backslash escapes resolved.
func unescape(out *strings.Builder, body string) error {
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' || i+1 >= len(body) {
			out.WriteByte(c)
			continue
		}
		i++
		switch e := body[i]; e {
		case '\\', '\'', '"':
			out.WriteByte(e)
		case 'a', 'b', 'f', 'n', 'r', 't', 'v':
			out.WriteByte("\a\b\f\n\r\t\v"[strings.IndexByte("abfnrtv", e)])
		case 'x', 'u', 'U':
			width := 2
			if e == 'u' {
				width = 4
			} else if e == 'U' {
				width = 8
			}
			if i+1+width > len(body) {
				return fmt.Errorf("truncated \\%c escape", e)
			}
			v, err := strconv.ParseUint(body[i+1:i+1+width], 16, 32)
			if err != nil || v > unicode.MaxRune || (v >= 0xd800 && v < 0xe000) {
				return fmt.Errorf("bad \\%c escape", e)
			}
			out.WriteRune(rune(v))
			i += width
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(body) && j < i+3 && body[j] >= '0' && body[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(body[i:j], 8, 32)
			out.WriteRune(rune(v))
			i = j - 1
		case 'N':
			return errors.New(`\N{...} escapes are not evaluated by glanced`)
		default:
			out.WriteByte('\\') // Python keeps unknown escapes as written
			out.WriteByte(e)
		}
	}
	return nil
}

// pyNumber evaluates a signed int or float literal as str() prints it.
func pyNumber(s string) (string, error) {
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] == '+' || s[0] == '-' {
		return "", errors.New("malformed number")
	}
	if last := s[len(s)-1]; last == 'j' || last == 'J' {
		return "", errors.New("complex numbers are not compared by glanced")
	}
	if v, ok := pyInt(s); ok {
		if neg {
			v.Neg(v)
		}
		if len(v.String()) > 4300 { // Python refuses to print longer ints
			return "", errors.New("integer too long")
		}
		return v.String(), nil
	}
	if !pyFloatSyntax(s) {
		return "", errors.New("malformed number")
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return "", errors.New("malformed number")
	}
	if neg {
		f = -f
	}
	return pyFloatRepr(f), nil
}

// pyInt parses Python's integer literal forms: decimal without leading zeros
// (but 0, 00...), 0x, 0o and 0b, with single underscores between digits.
func pyInt(s string) (*big.Int, bool) {
	base, digits := 10, s
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			base, digits = 16, s[2:]
		case 'o', 'O':
			base, digits = 8, s[2:]
		case 'b', 'B':
			base, digits = 2, s[2:]
		}
		if base != 10 && digits[0] == '_' {
			digits = digits[1:] // 0x_1f is allowed
		}
	}
	if !underscoresBetweenDigits(digits) {
		return nil, false
	}
	clean := strings.ReplaceAll(digits, "_", "")
	if base == 10 && len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "" {
		return nil, false // 012 is a syntax error
	}
	v, ok := new(big.Int).SetString(clean, base)
	return v, ok
}

func underscoresBetweenDigits(s string) bool {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return false
	}
	return true
}

// pyFloatSyntax checks digitpart "." [digitpart] [exp] | "." digitpart [exp] |
// digitpart exp, where digitpart allows single underscores between digits.
func pyFloatSyntax(s string) bool {
	mant, exp := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp = s[:i], strings.TrimLeft(s[i+1:], "+-")
		if len(s[i+1:])-len(exp) > 1 || !isDigitPart(exp) {
			return false
		}
	}
	whole, frac, dot := strings.Cut(mant, ".")
	switch {
	case !dot:
		return isDigitPart(whole) && exp != ""
	case whole == "":
		return isDigitPart(frac)
	default:
		return isDigitPart(whole) && (frac == "" || isDigitPart(frac))
	}
}

func isDigitPart(s string) bool {
	if !underscoresBetweenDigits(s) {
		return false
	}
	for _, r := range s {
		if r != '_' && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// pyFloatRepr prints f as Python's repr() does: the shortest digits that
// round-trip, fixed notation for exponents -4 < e < 16, else 1.5e+20.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.dddde±XX
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1
	if decpt > 16 || decpt < -3 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
	}
	switch {
	case decpt <= 0:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	case decpt >= len(digits):
		return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	default:
		return sign + digits[:decpt] + "." + digits[decpt:]
	}
}

var pyKeywords = map[string]bool{
	"and": true, "as": true, "assert": true, "async": true, "await": true, "break": true,
	"class": true, "continue": true, "def": true, "del": true, "elif": true, "else": true,
	"except": true, "finally": true, "for": true, "from": true, "global": true, "if": true,
	"import": true, "in": true, "is": true, "lambda": true, "nonlocal": true, "not": true,
	"or": true, "pass": true, "raise": true, "return": true, "try": true, "while": true,
	"with": true, "yield": true, "None": true, "True": true, "False": true,
}

// isPyName reports whether s is a Python identifier that is not a keyword.
func isPyName(s string) bool {
	if s == "" || pyKeywords[s] {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (unicode.IsDigit(r) || unicode.IsMark(r)):
		default:
			return false
		}
	}
	return utf8.ValidString(s)
}
