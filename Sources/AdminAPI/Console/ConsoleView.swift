import Foundation
import Synchronization

// The console's pages are built from a few parts (sections with facts, tables and forms) that
// one set of templates draws. Every page is labelled, keyboard-usable and escaped the same
// way, and a new capability gets a page without new HTML.
//
// Mustache reads stored properties only, so the flags the templates test are stored.

/// One page of the console.
struct Page {
    var title: String
    var sections: [Section] = []
    /// What an action did ("Password changed").
    var notice: String?
    /// Why an action failed.
    var error: String?
    /// The action was refused as a whole (the page says why): answered 422, not 200.
    var refused = false
    // Filled in by `Console.render`:
    var nav: [NavItem] = []
    var user: String?
    var csrf = ""

    init(_ title: String, notice: String? = nil, error: String? = nil, _ sections: [Section] = []) {
        self.title = title
        self.notice = notice
        self.error = error
        self.sections = sections
    }
}

struct NavItem {
    let label: String
    let href: String
    let current: Bool
}

struct Section {
    var heading: String?
    var text: [String] = []
    var facts: [Fact] = []
    var table: Table?
    var forms: [Form] = []
    /// Inline SVG drawn by the server (``Chart``); every text in it is escaped there.
    var svg: String?
    /// Values shown once, to copy (a generated password, recovery codes).
    var secrets: [String] = []
    /// Preformatted text (a message preview).
    var pre: String?
    var links: [Link] = []

    init(_ heading: String? = nil, text: [String] = [], facts: [Fact] = [], table: Table? = nil, forms: [Form] = [], links: [Link] = []) {
        self.heading = heading
        self.text = text
        self.facts = facts
        self.table = table
        self.forms = forms
        self.links = links
    }
}

struct Link {
    let label: String
    let href: String
}

struct Fact {
    let label: String
    let value: String
    var meter: Meter?

    init(_ label: String, _ value: String, meter: Meter? = nil) {
        self.label = label
        self.value = value
        self.meter = meter
    }
}

/// A usage bar (`<meter>`): quota used of quota.
struct Meter {
    let value: Int64
    let max: Int64
    let label: String
}

struct Table {
    let caption: String
    let columns: [String]
    var rows: [Row]
    let empty: String
    let hasRows: Bool

    init(_ caption: String, columns: [String], rows: [Row], empty: String = "Nothing here yet.") {
        self.caption = caption
        self.columns = columns
        self.rows = rows
        self.empty = empty
        self.hasRows = !rows.isEmpty
    }

    struct Row {
        let cells: [Cell]
        init(_ cells: [Cell]) { self.cells = cells }
    }
}

struct Cell {
    let text: String
    let href: String?
    let forms: [Form]
    let meter: Meter?

    init(_ text: String, href: String? = nil, forms: [Form] = [], meter: Meter? = nil) {
        self.text = text
        self.href = href
        self.forms = forms
        self.meter = meter
    }
}

struct Form {
    let action: String
    let fields: [Field]
    let submit: String
    /// The button's accessible name when its text alone is ambiguous ("Retry" in every row).
    let label: String
    let danger: Bool
    let inline: Bool
    /// A search form: GET, no CSRF token.
    let get: Bool
    let post: Bool

    init(_ action: String, _ fields: [Field] = [], submit: String, label: String? = nil, danger: Bool = false, inline: Bool = false, get: Bool = false) {
        self.action = action
        self.fields = fields
        self.submit = submit
        self.label = label ?? submit
        self.danger = danger
        self.inline = inline
        self.get = get
        self.post = !get
    }
}

struct Field {
    let id: String
    let name: String
    let label: String
    let type: String
    let value: String
    let required: Bool
    let autocomplete: String?
    let hint: String?
    let options: [Option]
    let isInput: Bool
    let isSelect: Bool
    let isTextarea: Bool
    let isCheckbox: Bool
    let isHidden: Bool
    let checked: Bool

    struct Option {
        let value: String
        let label: String
        let selected: Bool
    }

    /// Ids only need to be unique within a page; a process-wide counter is simplest.
    private static let counter = Atomic<Int>(0)

    private init(
        name: String, label: String, type: String, value: String, required: Bool, autocomplete: String?, hint: String?,
        options: [Option] = [], checked: Bool = false
    ) {
        self.id = "f\(Self.counter.add(1, ordering: .relaxed).newValue)-\(name)"
        self.name = name
        self.label = label
        self.type = type
        self.value = value
        self.required = required
        self.autocomplete = autocomplete
        self.hint = hint
        self.options = options
        self.isSelect = type == "select"
        self.isTextarea = type == "textarea"
        self.isCheckbox = type == "checkbox"
        self.isHidden = type == "hidden"
        self.isInput = !(isSelect || isTextarea || isCheckbox || isHidden)
        self.checked = checked
    }

    static func text(
        _ name: String, _ label: String, value: String = "", type: String = "text", required: Bool = false, autocomplete: String? = nil,
        hint: String? = nil
    ) -> Field {
        Field(name: name, label: label, type: type, value: value, required: required, autocomplete: autocomplete, hint: hint)
    }

    static func password(
        _ name: String, _ label: String, autocomplete: String = "current-password", hint: String? = nil, required: Bool = true
    ) -> Field {
        Field(name: name, label: label, type: "password", value: "", required: required, autocomplete: autocomplete, hint: hint)
    }

    static func hidden(_ name: String, _ value: String) -> Field {
        Field(name: name, label: "", type: "hidden", value: value, required: false, autocomplete: nil, hint: nil)
    }

    static func textarea(_ name: String, _ label: String, value: String = "", hint: String? = nil) -> Field {
        Field(name: name, label: label, type: "textarea", value: value, required: false, autocomplete: nil, hint: hint)
    }

    static func checkbox(_ name: String, _ label: String, checked: Bool = false) -> Field {
        Field(name: name, label: label, type: "checkbox", value: "on", required: false, autocomplete: nil, hint: nil, checked: checked)
    }

    static func select(_ name: String, _ label: String, _ options: [(String, String)], selected: String) -> Field {
        Field(
            name: name, label: label, type: "select", value: selected, required: false, autocomplete: nil, hint: nil,
            options: options.map { Option(value: $0.0, label: $0.1, selected: $0.0 == selected) })
    }
}
