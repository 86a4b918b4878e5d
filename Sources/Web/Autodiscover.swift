/// Outlook's autodiscover in the "plain old XML" schemas ([MS-OXDSCLI]): the client POSTs
///
///     <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
///       <Request>
///         <EMailAddress>alice@example.org</EMailAddress>
///         <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
///       </Request>
///     </Autodiscover>
///
/// and gets one IMAP and one SMTP `Protocol`, the preferred endpoint of each.
enum Autodiscover {
    static let responseSchema = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
    static let outlookSchema = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

    /// The address asked about, or a description of what is wrong with the request.
    static func emailAddress(inRequest body: [UInt8]) -> Result<String, XMLReaderError> {
        let root: XMLReader.Element
        do { root = try XMLReader.parse(body) } catch { return .failure(error) }
        guard root.name == "Autodiscover", let request = root.child("Request") else {
            return .failure(XMLReaderError(description: "not an autodiscover request (<Autodiscover><Request>)"))
        }
        guard let address = request.child("EMailAddress")?.text.trimmingWhitespace(), !address.isEmpty else {
            return .failure(XMLReaderError(description: "the request names no EMailAddress"))
        }
        return .success(address)
    }

    static func document(address: String, settings: ClientSettings) -> String {
        func proto(_ type: String, _ e: ClientSettings.Endpoint?) -> String {
            guard let e else { return "" }
            // Encryption SSL is TLS from the first byte, TLS is STARTTLS; it overrides SSL.
            return """
                      <Protocol>
                        <Type>\(type)</Type>
                        <Server>\(xmlEscaped(settings.hostname))</Server>
                        <Port>\(e.port)</Port>
                        <LoginName>\(xmlEscaped(address))</LoginName>
                        <DomainRequired>off</DomainRequired>
                        <SPA>off</SPA>
                        <SSL>on</SSL>
                        <Encryption>\(e.security == .implicitTLS ? "SSL" : "TLS")</Encryption>
                        <AuthRequired>on</AuthRequired>
                      </Protocol>

                """
        }
        let head = """
            <?xml version="1.0" encoding="utf-8"?>
            <Autodiscover xmlns="\(responseSchema)">
              <Response xmlns="\(outlookSchema)">
                <Account>
                  <AccountType>email</AccountType>
                  <Action>settings</Action>

            """
        let tail = """
                </Account>
              </Response>
            </Autodiscover>

            """
        return [head, proto("IMAP", settings.imap.first), proto("SMTP", settings.submission.first), tail].joined()
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
