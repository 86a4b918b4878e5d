import Mustache

/// The console's templates, compiled into the binary: Mailroom is one file to install, and
/// the console works offline. `{{x}}` escapes for HTML; the only unescaped value is the chart,
/// which ``Chart`` escapes itself.
enum ConsoleTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        // The templates are constants of this file; a parse error is a bug caught by any test.
        try! library.register(page, named: "page")
        try! library.register(form, named: "form")
        return library
    }()

    static let page = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Mailroom</title>
        <link rel="stylesheet" href="/console.css">
        <link rel="icon" href="/favicon.svg" type="image/svg+xml">
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        {{#user}}
        <header>
        <nav aria-label="Console">
        <ul>
        {{#nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/nav}}
        </ul>
        </nav>
        <form method="post" action="/logout" class="signout">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <span class="who">{{user}}</span>
        <button type="submit">Sign out</button>
        </form>
        </header>
        {{/user}}
        <main id="main">
        <h1>{{title}}</h1>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        {{#sections}}
        <section>
        {{#heading}}<h2>{{heading}}</h2>{{/heading}}
        {{#text}}<p>{{.}}</p>{{/text}}
        {{#secrets}}<p><code class="secret">{{.}}</code></p>{{/secrets}}
        {{#svg}}<figure>{{{svg}}}</figure>{{/svg}}
        {{^empty(facts)}}
        <dl>
        {{#facts}}<div><dt>{{label}}</dt><dd>{{value}}{{#meter}} <meter min="0" max="{{max}}" value="{{value}}" aria-label="{{label}}">{{label}}</meter>{{/meter}}</dd></div>{{/facts}}
        </dl>
        {{/empty(facts)}}
        {{#pre}}<pre>{{pre}}</pre>{{/pre}}
        {{^empty(links)}}<ul class="links">{{#links}}<li><a href="{{href}}">{{label}}</a></li>{{/links}}</ul>{{/empty(links)}}
        {{#table}}
        <div class="scroll">
        <table>
        <caption>{{caption}}</caption>
        <thead><tr>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}</tr></thead>
        <tbody>
        {{#rows}}<tr>{{#cells}}<td>{{#href}}<a href="{{href}}">{{text}}</a>{{/href}}{{^href}}{{text}}{{/href}}{{#meter}} <meter min="0" max="{{max}}" value="{{value}}" aria-label="{{label}}">{{label}}</meter>{{/meter}}{{#forms}}{{> form}}{{/forms}}</td>{{/cells}}</tr>{{/rows}}
        </tbody>
        </table>
        </div>
        {{^hasRows}}<p class="empty">{{empty}}</p>{{/hasRows}}
        {{/table}}
        {{#forms}}{{> form}}{{/forms}}
        </section>
        {{/sections}}
        </main>
        </body>
        </html>
        """

    static let form = """
        <form action="{{action}}" {{#get}}method="get"{{/get}}{{#post}}method="post"{{/post}} class="{{#inline}}inline{{/inline}}{{^inline}}block{{/inline}}">
        {{#post}}<input type="hidden" name="csrf" value="{{csrf}}">{{/post}}
        {{#fields}}
        {{#isHidden}}<input type="hidden" name="{{name}}" value="{{value}}">{{/isHidden}}
        {{#isInput}}<p><label for="{{id}}">{{label}}</label> <input id="{{id}}" name="{{name}}" type="{{type}}" value="{{value}}"{{#required}} required{{/required}}{{#autocomplete}} autocomplete="{{autocomplete}}"{{/autocomplete}}>{{#hint}} <small>{{hint}}</small>{{/hint}}</p>{{/isInput}}
        {{#isTextarea}}<p><label for="{{id}}">{{label}}</label> <textarea id="{{id}}" name="{{name}}" rows="4">{{value}}</textarea>{{#hint}} <small>{{hint}}</small>{{/hint}}</p>{{/isTextarea}}
        {{#isCheckbox}}<p><input id="{{id}}" name="{{name}}" type="checkbox" value="on"{{#checked}} checked{{/checked}}> <label for="{{id}}">{{label}}</label></p>{{/isCheckbox}}
        {{#isSelect}}<p><label for="{{id}}">{{label}}</label> <select id="{{id}}" name="{{name}}">{{#options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/options}}</select></p>{{/isSelect}}
        {{/fields}}
        <button type="submit" aria-label="{{label}}"{{#danger}} class="danger"{{/danger}}>{{submit}}</button>
        </form>
        """

    /// An envelope.
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="1" y="3" width="14" height="10" rx="1" fill="#1f5fbf"/>\
        <path d="M1.5 3.5 8 9l6.5-5.5" fill="none" stroke="#fff" stroke-width="1.2"/></svg>
        """

    /// Plain, readable and responsive; no web fonts, nothing from other sites.
    static let css = """
        :root { color-scheme: light dark; --accent: #1f5fbf; --danger: #b3261e; --line: #8884; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.45 system-ui, sans-serif; }
        .skip { position: absolute; left: -999px; }
        .skip:focus { left: 8px; top: 8px; background: Canvas; padding: 4px; }
        header { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: 8px; padding: 8px 16px; border-bottom: 1px solid var(--line); }
        nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 0; padding: 0; }
        nav a[aria-current] { font-weight: bold; text-decoration: none; }
        .signout { display: flex; gap: 8px; align-items: center; }
        main { padding: 8px 16px 48px; max-width: 1100px; }
        section { margin: 16px 0 24px; }
        a { color: var(--accent); }
        a:focus, button:focus, input:focus, select:focus, textarea:focus { outline: 3px solid var(--accent); outline-offset: 1px; }
        label { display: inline-block; min-width: 11em; }
        input, select, textarea { font: inherit; padding: 4px 6px; max-width: 100%; }
        textarea { width: 32em; }
        button { font: inherit; padding: 4px 12px; cursor: pointer; }
        button.danger { color: var(--danger); }
        form.inline { display: inline-block; margin: 0 4px 0 0; }
        form.inline p { display: inline; margin: 0; }
        form.inline label { min-width: 0; }
        form.block { margin: 12px 0; padding: 8px 12px; border: 1px solid var(--line); border-radius: 6px; }
        .notice { padding: 8px 12px; border-left: 4px solid #2e7d32; }
        .error { padding: 8px 12px; border-left: 4px solid var(--danger); }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; }
        caption { text-align: left; font-weight: bold; padding: 4px 0; }
        th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        dl div { display: flex; gap: 12px; padding: 2px 0; }
        dt { min-width: 12em; font-weight: 600; }
        dd { margin: 0; overflow-wrap: anywhere; }
        code.secret { font-size: 1.2em; padding: 2px 6px; border: 1px dashed var(--line); user-select: all; }
        pre { white-space: pre-wrap; overflow-wrap: anywhere; border: 1px solid var(--line); padding: 8px; max-height: 40em; overflow: auto; }
        figure { margin: 0; }
        svg text { font: 11px system-ui, sans-serif; fill: currentColor; }
        .empty { color: GrayText; }
        ul.links { padding-left: 1.2em; }
        @media (max-width: 600px) { label { display: block; } dl div { display: block; } textarea { width: 100%; } }
        """
}
