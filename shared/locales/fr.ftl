### Textes du bot en français (vouvoiement). Source : en.ftl.
### Les espaces avant « ! ? : ; » sont insécables, pour ne jamais laisser la ponctuation seule en début de ligne.
### Titres de boutons (menu-*, faq-yes, faq-no, list-button, csat-button, csat-no-comment) : 20 caractères au plus ;
### lignes de l'enquête (étoiles, une espace et un csat-score) : 24 au plus.

greeting = Bonjour { $name } ! Je suis l'assistant virtuel. Comment puis-je vous aider aujourd'hui ?
greeting-anonymous = Bonjour ! Je suis l'assistant virtuel. Comment puis-je vous aider aujourd'hui ?

## Menu principal

menu-footer = Vous pouvez aussi écrire votre question.
menu-order-status = Suivi de commande
menu-faq = Questions fréquentes
menu-agent = Parler à un agent
menu-language = Langue
list-button = Voir les options
faq-list-intro = Voici les questions que l'on nous pose le plus souvent. Choisissez-en une, ou écrivez votre question.

## Commandes

ask-order-number = Merci de nous envoyer votre numéro de commande (par exemple { $example }).
bad-order-number = Cela ne ressemble pas à un numéro de commande. Merci de l'envoyer sous la forme { $example }.
order-status = Commande { $order } : { $status }.
order-not-found = Je n'ai pas trouvé la commande { $order }. Merci de vérifier le numéro, ou de parler à un agent.
order-source-down = Désolé, je ne peux pas consulter les commandes pour le moment. Vous pouvez réessayer plus tard ou parler à un agent.

## FAQ

faq-solved-question = Cela répond-il à votre question ?
faq-yes = Oui, merci
faq-no = Non
faq-glad = Parfait, ravi d'avoir pu vous aider ! Écrivez-nous à tout moment si vous avez besoin d'autre chose.
faq-sorry = Toutes mes excuses. Essayons autrement : choisissez une option, ou parlez à un agent.
not-understood = Désolé, je n'ai pas compris. Merci de choisir une option :

## Mise en relation avec une équipe ($wait est l'un des textes wait-* ci-dessous)

handoff = Je vous mets en relation avec notre équipe { $team }. Vous aurez une réponse sous { $wait }. L'équipe verra notre conversation : vous n'aurez pas à vous répéter.
handoff-failures = Désolé de ne pas avoir pu vous aider. Je vous mets en relation avec notre équipe { $team } ; vous aurez une réponse sous { $wait }.
handoff-out-of-hours = Je vous mets en relation avec notre équipe { $team }. Elle n'est pas disponible pour le moment et vous répondra à partir de { $when }. Vous pouvez aussi écrire à { $email }.
handoff-vip = Merci de votre fidélité. Je vous mets directement en relation avec notre équipe { $team } ; vous aurez une réponse sous { $wait }.
handoff-by = Je vous mets en relation avec notre équipe { $team }. Vous aurez une réponse d'ici { $when }. L'équipe verra notre conversation : vous n'aurez pas à vous répéter.
handoff-failures-by = Désolé de ne pas avoir pu vous aider. Je vous mets en relation avec notre équipe { $team } ; vous aurez une réponse d'ici { $when }.
handoff-vip-by = Merci de votre fidélité. Je vous mets directement en relation avec notre équipe { $team } ; vous aurez une réponse d'ici { $when }.
back-to-bot = Pas de problème, j'ai annulé votre demande de mise en relation avec un agent. Comment puis-je vous aider ?

## Langue

language-prompt = Dans quelle langue souhaitez-vous continuer ?
language-changed = C'est fait ! Langue choisie : { $language }.

## Autres messages

reaction-thanks = Merci pour votre retour !
unsupported-message = Désolé, je ne peux pas lire ce type de message. Merci d'envoyer du texte, ou de choisir une option :
received-location = Merci, j'ai bien reçu votre position.
received-contact = Merci, j'ai bien reçu le contact.

## Délais d'attente (en français, 0 et 1 sont au singulier)

wait-minutes =
    { $count ->
        [one] { $count } minute
       *[other] { $count } minutes
    }
wait-hours =
    { $count ->
        [one] { $count } heure
       *[other] { $count } heures
    }
wait-days =
    { $count ->
        [one] { $count } jour
       *[other] { $count } jours
    }

# A file (photo, document, voice note) the customer sent.
received-media = Merci, j'ai joint votre fichier à votre demande.

# Day of the week, 1 = Monday … 7 = Sunday (when a team opens again).
weekday =
    { $day ->
        [1] lundi
        [2] mardi
        [3] mercredi
        [4] jeudi
        [5] vendredi
        [6] samedi
       *[7] dimanche
    }
when-at = { $weekday } à { $time }

# Files the customer sent: why one was refused, and what to fix in a photo.
media-too-large = Ce fichier est trop volumineux pour nous ({ $limit } au maximum). Merci d’en envoyer un plus léger.
media-dangerous = Pour votre sécurité, nous ne pouvons pas accepter ce fichier. Envoyez plutôt une photo, un PDF ou un document texte.
media-mismatch = Ce fichier ne correspond pas à son nom, nous n’avons pas pu l’ouvrir. Renvoyez-le en photo ou en PDF.
media-unknown-type = Nous ne pouvons pas ouvrir ce type de fichier. Envoyez une photo, une vidéo, un message vocal ou un PDF.
media-corrupt = Le fichier est arrivé endommagé. Pourriez-vous le renvoyer ?
photo-too-small = Merci ! La photo est trop petite pour voir les détails : reprenez-la de plus près, le produit remplissant le cadre.
photo-too-dark = Merci ! La photo est trop sombre : reprenez-la près d’une fenêtre ou avec plus de lumière, l’étiquette bien visible.
photo-overexposed = Merci ! La photo est trop claire pour voir les détails : reprenez-la à l’abri de la lumière directe.
photo-blurred = Merci ! La photo est floue : tenez le téléphone immobile, touchez l’écran pour faire la mise au point, puis reprenez-la.
photo-request = Merci d’envoyer une photo du produit montrant le problème, bien éclairée et avec l’étiquette visible.

## Niveaux de service et enquêtes de satisfaction

# Quand le client aura de nos nouvelles, inséré dans une phrase : $wait est un texte wait-*, $when un texte when-at.
expected-within = sous { $wait }
expected-from = à partir de { $when }
expected-by = d'ici { $when }
# Un délai dépassé, annoncé au client ; $expected est l'un des textes expected-*.
breach-senior = Nous sommes désolés pour l'attente. Votre demande a été confiée à un responsable de notre équipe { $team } ; vous aurez de nos nouvelles { $expected }.
breach-specialists = Votre demande a été transmise à nos { $team } ; vous aurez de nos nouvelles { $expected }.
# L'enquête après la résolution : une liste de cinq notes.
csat-question = Comment évalueriez-vous l'aide que vous avez reçue ?
csat-button = Choisir une note
csat-score =
    { $score ->
        [1] Très mauvais
        [2] Mauvais
        [3] Correct
        [4] Bien
       *[5] Excellent
    }
csat-thanks-ask = Merci ! Souhaitez-vous ajouter quelque chose ? Écrivez-le simplement ici.
csat-no-comment = Non, merci
csat-thanks = Merci pour votre avis.
# A customer known only by their WhatsApp user id is asked for their phone (WhatsApp adds its own button).
contact-request = Pour traiter votre demande, l’équipe a besoin de votre numéro de téléphone : touchez le bouton ci-dessous pour le partager.
consent-opted-out = Vous ne recevrez plus de messages de notre part, sauf si vous nous écrivez. Répondez START si vous changez d'avis.
consent-opted-in = Merci : nous pourrons vous envoyer des nouvelles. Répondez STOP à tout moment pour les arrêter.
