using System.Globalization;
using System.Text;

namespace Depot.Formats;

/// <summary>
/// Python's text for JSON numbers: what <c>json.dumps(json.loads(text))</c> prints for one number. Integers are
/// Python ints (any size, <c>-0</c> is <c>0</c>); anything with a fraction or an exponent is a double printed by
/// <c>float.__repr__</c>: the shortest digits that read back as the same double, fixed notation while the decimal
/// exponent is between -4 and 15, else <c>d.ddde+XX</c>; a whole number in fixed notation ends in <c>.0</c>.
/// </summary>
public static class PythonFloat
{
    /// <summary>The text Python prints for the JSON number <paramref name="raw"/>.</summary>
    public static string FromJson(string raw)
    {
        if (raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0)
        {
            var digits = raw.TrimStart('-').TrimStart('0');
            return digits.Length == 0 ? "0" : raw[0] == '-' ? "-" + digits : digits;
        }

        return Repr(double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    /// <summary>Python's <c>repr(float)</c> as <c>json</c> writes it (<c>Infinity</c>, <c>-Infinity</c>,
    /// <c>NaN</c> for the non-finite values).</summary>
    public static string Repr(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }

        var sign = double.IsNegative(value) ? "-" : "";
        if (value == 0)
        {
            return sign + "0.0";
        }

        // .NET's "R" gives the shortest round-trip digits; take them apart into digits and a decimal point position
        // (value = 0.DIGITS x 10^point) and lay them out as Python's float_repr_style "short" does.
        var text = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var exponentAt = text.IndexOf('E', StringComparison.Ordinal);
        var mantissa = exponentAt < 0 ? text : text[..exponentAt];
        var exponent = exponentAt < 0 ? 0 : int.Parse(text[(exponentAt + 1)..], CultureInfo.InvariantCulture);
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot < 0 ? mantissa : mantissa[..dot];
        var all = intPart + (dot < 0 ? "" : mantissa[(dot + 1)..]);
        var point = intPart.Length + exponent;
        var lead = all.Length - all.TrimStart('0').Length;
        var digits = all.Trim('0');
        point -= lead;

        var output = new StringBuilder(sign);
        if (point is > -4 and <= 16)
        {
            if (point <= 0)
            {
                output.Append("0.").Append('0', -point).Append(digits);
            }
            else if (point >= digits.Length)
            {
                output.Append(digits).Append('0', point - digits.Length).Append(".0");
            }
            else
            {
                output.Append(digits, 0, point).Append('.').Append(digits, point, digits.Length - point);
            }

            return output.ToString();
        }

        output.Append(digits[0]);
        if (digits.Length > 1)
        {
            output.Append('.').Append(digits, 1, digits.Length - 1);
        }

        var e = point - 1;
        output.Append('e').Append(e < 0 ? '-' : '+')
            .Append(Math.Abs(e).ToString("00", CultureInfo.InvariantCulture));
        return output.ToString();
    }
}
