### Bot-Texte auf Deutsch (Sie-Form). Quelle: en.ftl.
### Titel von Schaltflächen (menu-*, faq-yes, faq-no, list-button, csat-button, csat-no-comment): höchstens 20 Zeichen;
### Zeilen der Umfrage (Sterne, ein Leerzeichen und ein csat-score): höchstens 24.

greeting = Hallo { $name }! Ich bin der virtuelle Assistent. Wie kann ich Ihnen heute helfen?
greeting-anonymous = Hallo! Ich bin der virtuelle Assistent. Wie kann ich Ihnen heute helfen?

## Hauptmenü

menu-footer = Sie können Ihre Frage auch einfach eintippen.
menu-order-status = Bestellstatus
menu-faq = Häufige Fragen
menu-agent = Mit Berater sprechen
menu-language = Sprache
list-button = Optionen anzeigen
faq-list-intro = Hier sind die Fragen, die uns am häufigsten gestellt werden. Wählen Sie eine aus oder schreiben Sie uns Ihre Frage.

## Bestellungen

ask-order-number = Bitte senden Sie uns Ihre Bestellnummer (zum Beispiel { $example }).
bad-order-number = Das sieht nicht nach einer Bestellnummer aus. Bitte senden Sie sie im Format { $example }.
order-status = Bestellung { $order }: { $status }.
order-not-found = Ich konnte die Bestellung { $order } nicht finden. Bitte prüfen Sie die Nummer oder sprechen Sie mit einem Berater.
order-source-down = Es tut mir leid, ich kann Bestellungen gerade nicht abrufen. Sie können es später noch einmal versuchen oder mit einem Berater sprechen.

## Häufige Fragen

faq-solved-question = Hat das Ihre Frage beantwortet?
faq-yes = Ja, danke
faq-no = Nein
faq-glad = Super, freut mich, dass ich helfen konnte! Schreiben Sie uns jederzeit, wenn Sie noch etwas brauchen.
faq-sorry = Das tut mir leid. Versuchen wir es noch einmal: Wählen Sie eine Option oder sprechen Sie mit einem Berater.
not-understood = Entschuldigung, das habe ich nicht verstanden. Bitte wählen Sie eine Option:

## Weiterleitung an ein Team ($wait ist einer der wait-*-Texte unten)

handoff = Ich verbinde Sie mit unserem Team { $team }. Sie erhalten innerhalb von { $wait } eine Antwort. Das Team sieht unseren bisherigen Chat, Sie müssen also nichts wiederholen.
handoff-failures = Es tut mir leid, dass ich Ihnen nicht helfen konnte. Ich verbinde Sie mit unserem Team { $team }; Sie erhalten innerhalb von { $wait } eine Antwort.
handoff-out-of-hours = Ich verbinde Sie mit unserem Team { $team }. Das Team ist gerade nicht erreichbar und antwortet Ihnen ab { $when }. Sie können auch an { $email } schreiben.
handoff-vip = Vielen Dank für Ihre Treue. Ich verbinde Sie direkt mit unserem Team { $team }; Sie erhalten innerhalb von { $wait } eine Antwort.
handoff-by = Ich verbinde Sie mit unserem Team { $team }. Sie erhalten bis { $when } eine Antwort. Das Team sieht unseren bisherigen Chat, Sie müssen also nichts wiederholen.
handoff-failures-by = Es tut mir leid, dass ich Ihnen nicht helfen konnte. Ich verbinde Sie mit unserem Team { $team }; Sie erhalten bis { $when } eine Antwort.
handoff-vip-by = Vielen Dank für Ihre Treue. Ich verbinde Sie direkt mit unserem Team { $team }; Sie erhalten bis { $when } eine Antwort.
back-to-bot = Kein Problem, ich habe die Weiterleitung an einen Berater abgebrochen. Wie kann ich Ihnen helfen?

## Sprache

language-prompt = Welche Sprache möchten Sie verwenden?
language-changed = Erledigt, ab jetzt spreche ich { $language } mit Ihnen.

## Weitere Nachrichten

reaction-thanks = Danke für Ihr Feedback!
unsupported-message = Entschuldigung, diese Art von Nachricht kann ich nicht lesen. Bitte senden Sie Text oder wählen Sie eine Option:
received-location = Danke, ich habe Ihren Standort erhalten.
received-contact = Danke, ich habe den Kontakt erhalten.

## Wartezeiten
## Sie stehen nach „innerhalb von“, daher der Dativ Plural („2 Tagen“).

wait-minutes =
    { $count ->
        [one] { $count } Minute
       *[other] { $count } Minuten
    }
wait-hours =
    { $count ->
        [one] { $count } Stunde
       *[other] { $count } Stunden
    }
wait-days =
    { $count ->
        [one] { $count } Tag
       *[other] { $count } Tagen
    }

# A file (photo, document, voice note) the customer sent.
received-media = Danke, ich habe Ihre Datei an Ihre Anfrage angehängt.

# Day of the week, 1 = Monday … 7 = Sunday (when a team opens again).
weekday =
    { $day ->
        [1] Montag
        [2] Dienstag
        [3] Mittwoch
        [4] Donnerstag
        [5] Freitag
        [6] Samstag
       *[7] Sonntag
    }
when-at = { $weekday } um { $time } Uhr

# Files the customer sent: why one was refused, and what to fix in a photo.
media-too-large = Diese Datei ist zu groß für uns (höchstens { $limit }). Bitte senden Sie eine kleinere.
media-dangerous = Zu Ihrer Sicherheit können wir diese Datei nicht annehmen. Bitte senden Sie ein Foto, ein PDF oder ein Textdokument.
media-mismatch = Diese Datei ist nicht das, was ihr Name sagt, daher konnten wir sie nicht öffnen. Bitte senden Sie sie als Foto oder PDF erneut.
media-unknown-type = Diesen Dateityp können wir nicht öffnen. Bitte senden Sie ein Foto, ein Video, eine Sprachnachricht oder ein PDF.
media-corrupt = Die Datei ist beschädigt angekommen. Könnten Sie sie erneut senden?
photo-too-small = Danke! Das Foto ist zu klein, um Details zu erkennen: Bitte fotografieren Sie näher, sodass das Produkt das Bild füllt.
photo-too-dark = Danke! Das Foto ist zu dunkel: Bitte fotografieren Sie erneut an einem Fenster oder mit mehr Licht, mit sichtbarem Etikett.
photo-overexposed = Danke! Das Foto ist zu hell, um Details zu erkennen: Bitte fotografieren Sie erneut ohne direktes Licht.
photo-blurred = Danke! Das Foto ist unscharf: Bitte halten Sie das Telefon ruhig, tippen Sie zum Scharfstellen auf den Bildschirm und fotografieren Sie erneut.
photo-request = Bitte senden Sie ein Foto des Produkts, auf dem das Problem zu sehen ist, bei gutem Licht und mit sichtbarem Etikett.

## Servicelevel und Zufriedenheitsumfragen

# Wann der Kunde von uns hört, mitten im Satz: $wait ist ein wait-*-Text, $when ein when-at-Text.
expected-within = innerhalb von { $wait }
expected-from = ab { $when }
expected-by = bis { $when }
# Eine überschrittene Frist, dem Kunden mitgeteilt; $expected ist einer der expected-*-Texte.
breach-senior = Entschuldigen Sie bitte die Wartezeit. Ihre Anfrage wurde an eine erfahrene Ansprechperson in unserem Team { $team } weitergeleitet; Sie hören { $expected } von uns.
breach-specialists = Ihre Anfrage wurde an unsere { $team } weitergeleitet; Sie hören { $expected } von uns.
# Die Umfrage nach der Lösung: eine Liste mit fünf Bewertungen.
csat-question = Wie bewerten Sie die Hilfe, die Sie erhalten haben?
csat-button = Bewertung wählen
csat-score =
    { $score ->
        [1] Sehr schlecht
        [2] Schlecht
        [3] In Ordnung
        [4] Gut
       *[5] Ausgezeichnet
    }
csat-thanks-ask = Vielen Dank! Möchten Sie noch etwas ergänzen? Schreiben Sie es einfach hier.
csat-no-comment = Nein, danke
csat-thanks = Vielen Dank für Ihr Feedback.
# A customer known only by their WhatsApp user id is asked for their phone (WhatsApp adds its own button).
contact-request = Um Ihr Anliegen zu bearbeiten, braucht das Team Ihre Telefonnummer: Tippen Sie unten auf die Schaltfläche, um sie zu teilen.
consent-opted-out = Sie erhalten keine Nachrichten mehr von uns, außer Sie schreiben uns zuerst. Antworten Sie START, wenn Sie es sich anders überlegen.
consent-opted-in = Danke: Wir dürfen Ihnen jetzt Neuigkeiten senden. Antworten Sie jederzeit STOP, um sie abzubestellen.
