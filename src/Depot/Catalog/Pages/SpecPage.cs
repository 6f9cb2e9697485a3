namespace Depot.Catalog.Pages;

/// <summary>
/// <c>/CACHE/spec/HASH</c>: one spec — its full hash, facts (<c>dl#spec-facts</c>), signature (<c>#signature</c>),
/// sizes and push time, the commands that install it with copy buttons, its dependencies and dependents as links, and
/// its dependency DAG drawn (<c>figure#dag</c>).
/// </summary>
public static class SpecPage
{
    /// <summary>Writes the page.</summary>
    public static void Write(TextWriter writer, PageSettings settings, string cache, SpecDetail spec)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(spec);
        var html = new HtmlOutput(writer);
        var links = new CatalogLinks(settings);
        var row = spec.Row;
        var title = row.Name + "@" + row.Version;
        PageLayout.Begin(html, settings, title + " /" + HumanUnits.ShortHash(row.Hash),
            [new Crumb(cache, links.Cache(cache)), new Crumb(row.Name, links.Package(cache, row.Name)),
                new Crumb(title + " /" + HumanUnits.ShortHash(row.Hash))], cache);
        html.Element("h1", title);
        html.Open("p", ("class", "spec-hash")).Text("Hash ").Element("code", row.Hash, ("id", "spec-hash"))
            .Close("p").Raw("\n");
        Facts(html, spec);
        Signature(html, spec.Signature);
        Sizes(html, spec);
        Install(html, spec.Install);
        Links(html, links, cache, "dependencies", "Dependencies", spec.Dependencies, "No dependencies.");
        Links(html, links, cache, "dependents", "Dependents in this cache", spec.Dependents,
            "Nothing in this cache depends on it.");
        html.Open("section", ("id", "graph"), ("aria-labelledby", "graph-heading"))
            .Element("h2", "Dependency graph", ("id", "graph-heading"));
        DagDrawing.Write(html, links, cache, spec.Graph);
        html.Close("section").Raw("\n");
        PageLayout.End(html, settings);
    }

    /// <summary>Variants as Spack prints them: <c>+mpi ~shared build_system=cmake</c>.</summary>
    public static string VariantText(IReadOnlyList<VariantValue> variants)
    {
        ArgumentNullException.ThrowIfNull(variants);
        return string.Join(' ', variants.Select(v => v.IsBoolean
            ? (v.Values.Count > 0 && v.Values[0].Equals("True", StringComparison.OrdinalIgnoreCase) ? "+" : "~")
                + v.Name
            : v.Name + "=" + string.Join(',', v.Values)));
    }

    private static void Facts(HtmlOutput html, SpecDetail spec)
    {
        var row = spec.Row;
        var variants = spec.Variants.Count > 0 ? VariantText(spec.Variants) : row.Variants;
        html.Open("dl", ("id", "spec-facts"), ("class", "facts")).Raw("\n");
        Fact(html, "Version", row.Version);
        Fact(html, "Variants", variants.Length > 0 ? variants : "none");
        Fact(html, "Compiler", row.Compiler);
        Fact(html, "Target", row.Target);
        Fact(html, "OS", row.Os);
        Fact(html, "Platform", row.Platform);
        Fact(html, "Namespace", row.Namespace);
        Fact(html, "Layout", "v" + row.Layout.ToString(System.Globalization.CultureInfo.InvariantCulture));
        html.Close("dl").Raw("\n");
    }

    private static void Fact(HtmlOutput html, string name, string value) =>
        html.Open("div").Element("dt", name).Element("dd", value).Close("div").Raw("\n");

    private static void Signature(HtmlOutput html, SignatureInfo signature)
    {
        var (state, text) = signature.State switch
        {
            SignatureState.Trusted => ("trusted", "Trusted signature"),
            SignatureState.Untrusted => ("untrusted", "Untrusted signature (this server does not trust the key)"),
            SignatureState.Invalid => ("invalid", "Invalid signature (it does not verify)"),
            _ => ("unsigned", "Unsigned"),
        };
        html.Open("p", ("id", "signature"), ("class", "badge badge-" + state), ("data-state", state)).Text(text);
        if (signature.State != SignatureState.Unsigned && signature.Fingerprint is { } fingerprint)
        {
            html.Text(" · key ").Element("code", fingerprint, ("class", "fingerprint"));
            if (signature.UserId is { Length: > 0 } user)
            {
                html.Text(" (" + user + ")");
            }
        }

        if (signature.SignedAt is { } signedAt)
        {
            html.Text(" · signed ");
            CachesPage.WriteTime(html, signedAt, "");
        }

        html.Close("p").Raw("\n");
    }

    private static void Sizes(HtmlOutput html, SpecDetail spec)
    {
        html.Open("dl", ("class", "facts sizes")).Raw("\n")
            .Open("div").Element("dt", "Tarball").Open("dd");
        Size(html, "size-compressed", spec.CompressedBytes);
        html.Text(" compressed, ");
        Size(html, "size-uncompressed", spec.UncompressedBytes);
        html.Text(" uncompressed").Close("dd").Close("div").Raw("\n")
            .Open("div").Element("dt", "Pushed").Open("dd");
        CachesPage.WriteTime(html, spec.PushedAt, "unknown", "pushed-at");
        html.Close("dd").Close("div").Raw("\n").Close("dl").Raw("\n");
    }

    private static void Size(HtmlOutput html, string id, long? bytes)
    {
        if (bytes is { } b)
        {
            html.Element("span", HumanUnits.Size(b), ("id", id), ("title", HumanUnits.Bytes(b)));
        }
        else
        {
            html.Element("span", "unknown", ("id", id));
        }
    }

    private static void Install(HtmlOutput html, InstallCommands install)
    {
        html.Open("section", ("id", "install"), ("aria-labelledby", "install-heading"))
            .Element("h2", "Install", ("id", "install-heading"))
            .Open("p").Text("Mirror URL ").Element("code", install.MirrorUrl, ("class", "mirror-url")).Close("p")
            .Raw("\n");
        Command(html, "install-spack", "With Spack", "Copy the Spack commands", install.Spack);
        Command(html, "install-depot", "With Depot", "Copy the Depot command", install.Depot);
        Command(html, "spack-yaml", "In spack.yaml", "Copy the spack.yaml snippet", install.SpackYaml);
        html.Element("p", "", ("id", "copy-status"), ("class", "visually-hidden"), ("role", "status"),
                ("aria-live", "polite"))
            .Close("section").Raw("\n");
    }

    private static void Command(HtmlOutput html, string id, string heading, string copyLabel, string text)
    {
        // The button is hidden until the script, which makes it work, shows it.
        html.Open("div", ("class", "command")).Open("div", ("class", "command-head"))
            .Element("h3", heading, ("id", id + "-heading"))
            .Element("button", "Copy", ("type", "button"), ("class", "copy"), ("data-copy", id),
                ("aria-label", copyLabel), ("hidden", ""))
            .Close("div")
            .Element("pre", text, ("id", id))
            .Close("div").Raw("\n");
    }

    private static void Links(HtmlOutput html, CatalogLinks links, string cache, string id, string heading,
        IReadOnlyList<DependencyLink> specs, string none)
    {
        html.Open("section", ("id", id), ("aria-labelledby", id + "-heading"))
            .Element("h2", heading + " (" + specs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)
                + ")", ("id", id + "-heading"));
        if (specs.Count == 0)
        {
            html.Element("p", none, ("class", "empty"));
        }
        else
        {
            html.Open("ul", ("class", "spec-links")).Raw("\n");
            foreach (var spec in specs)
            {
                var label = spec.Name + "@" + spec.Version;
                html.Open("li", ("data-hash", spec.Hash));
                if (spec.InCache)
                {
                    html.Element("a", label, ("class", "spec-link"), ("href", links.Spec(cache, spec.Hash)));
                }
                else
                {
                    html.Element("span", label, ("class", "absent"));
                }

                html.Raw(" ").Element("code", "/" + HumanUnits.ShortHash(spec.Hash), ("class", "hash"));
                if (spec.Types.Length > 0)
                {
                    html.Raw(" ").Element("span", spec.Types.Replace(",", ", ", StringComparison.Ordinal),
                        ("class", "types"));
                }

                if (!spec.InCache)
                {
                    html.Raw(" ").Element("span", "(not in this cache)", ("class", "note"));
                }

                html.Close("li").Raw("\n");
            }

            html.Close("ul").Raw("\n");
        }

        html.Close("section").Raw("\n");
    }
}
