### English bot texts: the source of truth. Every other catalogue carries the same keys.
### Button and list-button titles (menu-*, faq-yes, faq-no, list-button, csat-button, csat-no-comment) are at most
### 20 characters; the survey's row titles (stars, a space and a csat-score) at most 24.

greeting = Hi { $name }! I'm the virtual assistant. How can I help you today?
greeting-anonymous = Hi! I'm the virtual assistant. How can I help you today?

## Main menu

menu-footer = You can also type your question.
menu-order-status = Order status
menu-faq = FAQ
menu-agent = Talk to an agent
menu-language = Language
list-button = See options
faq-list-intro = Here are our most asked questions. Pick one, or type your question.

## Orders

ask-order-number = Please send your order number (for example { $example }).
bad-order-number = That doesn't look like an order number. Please send it as in { $example }.
order-status = Order { $order }: { $status }.
order-not-found = I couldn't find order { $order }. Please check the number, or talk to an agent.
order-source-down = I'm sorry, I can't check orders right now. You can try again later or talk to an agent.

## FAQ

faq-solved-question = Did this answer your question?
faq-yes = Yes, thanks
faq-no = No
faq-glad = Great, glad I could help! Write any time if you need anything else.
faq-sorry = Sorry about that. Let me try again: pick an option, or talk to an agent.
not-understood = Sorry, I didn't understand that. Please pick an option:

## Handing over to a team ($wait is one of the wait-* texts below)

handoff = I'm passing you to our { $team } team. You'll get an answer within { $wait }. They'll see our conversation, so you won't need to repeat yourself.
handoff-failures = I'm sorry I couldn't help. I'm passing you to our { $team } team; you'll get an answer within { $wait }.
handoff-out-of-hours = I'm passing you to our { $team } team. They're away right now and will answer from { $when }. You can also write to { $email }.
handoff-vip = Thank you for being a valued customer. I'm passing you straight to our { $team } team; you'll get an answer within { $wait }.
handoff-by = I'm passing you to our { $team } team. You'll get an answer by { $when }. They'll see our conversation, so you won't need to repeat yourself.
handoff-failures-by = I'm sorry I couldn't help. I'm passing you to our { $team } team; you'll get an answer by { $when }.
handoff-vip-by = Thank you for being a valued customer. I'm passing you straight to our { $team } team; you'll get an answer by { $when }.
back-to-bot = No problem, I've cancelled your request for an agent. How can I help?

## Language

language-prompt = Which language would you like?
language-changed = Done, I'll speak { $language } from now on.

## Other messages

reaction-thanks = Thanks for the feedback!
unsupported-message = Sorry, I can't read this kind of message. Please send text, or pick an option:
received-location = Thanks, I've got your location.
received-contact = Thanks, I've got the contact.

## Waiting times

wait-minutes =
    { $count ->
        [one] { $count } minute
       *[other] { $count } minutes
    }
wait-hours =
    { $count ->
        [one] { $count } hour
       *[other] { $count } hours
    }
wait-days =
    { $count ->
        [one] { $count } day
       *[other] { $count } days
    }

# A file (photo, document, voice note) the customer sent.
received-media = Thanks, I've attached your file to your request.

# Day of the week, 1 = Monday … 7 = Sunday (when a team opens again).
weekday =
    { $day ->
        [1] Monday
        [2] Tuesday
        [3] Wednesday
        [4] Thursday
        [5] Friday
        [6] Saturday
       *[7] Sunday
    }
when-at = { $weekday } at { $time }

# Files the customer sent: why one was refused, and what to fix in a photo.
media-too-large = This file is too large for us to receive ({ $limit } at most). Please send a smaller one.
media-dangerous = For your safety we can't accept this file. Please send a photo, a PDF or a text document instead.
media-mismatch = This file isn't what its name says, so we couldn't open it. Please send it again as a photo or a PDF.
media-unknown-type = We can't open this type of file. Please send a photo, a video, a voice note or a PDF.
media-corrupt = The file arrived damaged. Could you send it again?
photo-too-small = Thanks! The photo is too small to see the details: please take it again closer, with the product filling the frame.
photo-too-dark = Thanks! The photo is too dark: please take it again near a window or with more light, with the label in view.
photo-overexposed = Thanks! The photo is too bright to see the details: please take it again out of direct light.
photo-blurred = Thanks! The photo is blurred: please hold the phone still, tap the screen to focus, and take it again.
photo-request = Please send a photo of the product showing the problem, in good light and with the label in view.

## Service levels and satisfaction surveys

# When the customer will hear from us, inserted in sentences: $wait is a wait-* text, $when a when-at text.
expected-within = within { $wait }
expected-from = from { $when }
expected-by = by { $when }
# A breached deadline, told to the customer; $expected is one of the expected-* texts.
breach-senior = We're sorry for the wait. Your request has been escalated to a senior member of our { $team } team; you'll hear from us { $expected }.
breach-specialists = Your request has been passed to our { $team }; you'll hear from us { $expected }.
# The survey after a resolution: a list of five scores.
csat-question = How would you rate the help you received?
csat-button = Choose a rating
csat-score =
    { $score ->
        [1] Very poor
        [2] Poor
        [3] Okay
        [4] Good
       *[5] Excellent
    }
csat-thanks-ask = Thank you! Anything you'd like to add? Just write it here.
csat-no-comment = No, thanks
csat-thanks = Thank you for your feedback.
# A customer known only by their WhatsApp user id is asked for their phone (WhatsApp adds its own button).
contact-request = To look into this, the team needs your phone number: tap the button below to share it.
consent-opted-out = You won't get messages from us unless you write to us first. Reply START if you change your mind.
consent-opted-in = Thank you: we may send you updates now. Reply STOP at any time to stop them.
