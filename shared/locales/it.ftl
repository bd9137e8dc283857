### Testi del bot in italiano (si dà del tu, come d'uso in chat). Fonte: en.ftl.
### Titoli dei pulsanti (menu-*, faq-yes, faq-no, list-button, csat-button, csat-no-comment): al massimo 20 caratteri;
### righe del sondaggio (stelle, uno spazio e un csat-score): al massimo 24.

greeting = Ciao { $name }! Sono l'assistente virtuale. Come posso aiutarti oggi?
greeting-anonymous = Ciao! Sono l'assistente virtuale. Come posso aiutarti oggi?

## Menu principale

menu-footer = Puoi anche scrivere la tua domanda.
menu-order-status = Stato dell'ordine
menu-faq = Domande frequenti
menu-agent = Parla con un agente
menu-language = Lingua
list-button = Vedi opzioni
faq-list-intro = Ecco le domande che ci fanno più spesso. Scegline una o scrivi la tua domanda.

## Ordini

ask-order-number = Inviami il numero dell'ordine, per favore (ad esempio { $example }).
bad-order-number = Questo non sembra un numero d'ordine. Invialo nel formato { $example }, per favore.
order-status = Ordine { $order }: { $status }.
order-not-found = Non ho trovato l'ordine { $order }. Controlla il numero o parla con un agente.
order-source-down = Mi dispiace, al momento non riesco a verificare gli ordini. Puoi riprovare più tardi o parlare con un agente.

## Domande frequenti

faq-solved-question = Ho risposto alla tua domanda?
faq-yes = Sì, grazie
faq-no = No
faq-glad = Perfetto, sono felice di esserti stato d'aiuto! Scrivimi quando vuoi se hai bisogno d'altro.
faq-sorry = Mi dispiace. Riproviamo: scegli un'opzione o parla con un agente.
not-understood = Scusa, non ho capito. Scegli un'opzione:

## Passaggio a un team ($wait è uno dei testi wait-* qui sotto)

handoff = Ti passo al nostro team { $team }. Riceverai una risposta entro { $wait }. Il team vedrà la nostra conversazione, quindi non dovrai ripetere nulla.
handoff-failures = Mi dispiace di non essere riuscito ad aiutarti. Ti passo al nostro team { $team }; riceverai una risposta entro { $wait }.
handoff-out-of-hours = Ti passo al nostro team { $team }. Al momento non è disponibile e ti risponderà a partire da { $when }. Puoi anche scrivere a { $email }.
handoff-vip = Grazie per la tua fiducia. Ti passo direttamente al nostro team { $team }; riceverai una risposta entro { $wait }.
handoff-by = Ti passo al nostro team { $team }. Riceverai una risposta entro { $when }. Il team vedrà la nostra conversazione, quindi non dovrai ripetere nulla.
handoff-failures-by = Mi dispiace di non essere riuscito ad aiutarti. Ti passo al nostro team { $team }; riceverai una risposta entro { $when }.
handoff-vip-by = Grazie per la tua fiducia. Ti passo direttamente al nostro team { $team }; riceverai una risposta entro { $when }.
back-to-bot = Nessun problema, ho annullato la tua richiesta di parlare con un agente. Come posso aiutarti?

## Lingua

language-prompt = In quale lingua preferisci continuare?
language-changed = Fatto! Lingua selezionata: { $language }.

## Altri messaggi

reaction-thanks = Grazie per il tuo feedback!
unsupported-message = Mi dispiace, non riesco a leggere questo tipo di messaggio. Invia un testo o scegli un'opzione:
received-location = Grazie, ho ricevuto la tua posizione.
received-contact = Grazie, ho ricevuto il contatto.

## Tempi di attesa

wait-minutes =
    { $count ->
        [one] { $count } minuto
       *[other] { $count } minuti
    }
wait-hours =
    { $count ->
        [one] { $count } ora
       *[other] { $count } ore
    }
wait-days =
    { $count ->
        [one] { $count } giorno
       *[other] { $count } giorni
    }

# A file (photo, document, voice note) the customer sent.
received-media = Grazie, ho allegato il tuo file alla richiesta.

# Day of the week, 1 = Monday … 7 = Sunday (when a team opens again).
weekday =
    { $day ->
        [1] lunedì
        [2] martedì
        [3] mercoledì
        [4] giovedì
        [5] venerdì
        [6] sabato
       *[7] domenica
    }
when-at = { $weekday } alle { $time }

# Files the customer sent: why one was refused, and what to fix in a photo.
media-too-large = Questo file è troppo grande ({ $limit } al massimo). Inviane uno più piccolo.
media-dangerous = Per la tua sicurezza non possiamo accettare questo file. Invia una foto, un PDF o un documento di testo.
media-mismatch = Questo file non è ciò che dice il suo nome e non siamo riusciti ad aprirlo. Invialo di nuovo come foto o PDF.
media-unknown-type = Non possiamo aprire questo tipo di file. Invia una foto, un video, un messaggio vocale o un PDF.
media-corrupt = Il file è arrivato danneggiato. Puoi inviarlo di nuovo?
photo-too-small = Grazie! La foto è troppo piccola per vedere i dettagli: scattala di nuovo più da vicino, con il prodotto che riempie l’inquadratura.
photo-too-dark = Grazie! La foto è troppo scura: scattala di nuovo vicino a una finestra o con più luce, con l’etichetta in vista.
photo-overexposed = Grazie! La foto è troppo chiara per vedere i dettagli: scattala di nuovo lontano dalla luce diretta.
photo-blurred = Grazie! La foto è mossa: tieni fermo il telefono, tocca lo schermo per mettere a fuoco e scattala di nuovo.
photo-request = Invia una foto del prodotto che mostri il problema, con buona luce e con l’etichetta in vista.

## Livelli di servizio e sondaggi di soddisfazione

# Quando il cliente avrà nostre notizie, dentro una frase: $wait è un testo wait-*, $when un testo when-at.
expected-within = entro { $wait }
expected-from = a partire da { $when }
expected-by = entro { $when }
# Una scadenza superata, comunicata al cliente; $expected è uno dei testi expected-*.
breach-senior = Ci scusiamo per l'attesa. La tua richiesta è stata affidata a un responsabile del nostro team { $team }; riceverai nostre notizie { $expected }.
breach-specialists = La tua richiesta è stata passata ai nostri { $team }; riceverai nostre notizie { $expected }.
# Il sondaggio dopo la risoluzione: un elenco di cinque voti.
csat-question = Come valuteresti l'aiuto che hai ricevuto?
csat-button = Scegli un voto
csat-score =
    { $score ->
        [1] Pessimo
        [2] Scarso
        [3] Sufficiente
        [4] Buono
       *[5] Ottimo
    }
csat-thanks-ask = Grazie! Vuoi aggiungere qualcosa? Scrivilo pure qui.
csat-no-comment = No, grazie
csat-thanks = Grazie per il tuo feedback.
# A customer known only by their WhatsApp user id is asked for their phone (WhatsApp adds its own button).
contact-request = Per gestire la richiesta, il team ha bisogno del tuo numero di telefono: tocca il pulsante qui sotto per condividerlo.
consent-opted-out = Non riceverai più messaggi da noi, a meno che non ci scriva tu per primo. Rispondi START se cambi idea.
consent-opted-in = Grazie: ora possiamo inviarti aggiornamenti. Rispondi STOP in qualsiasi momento per interromperli.
