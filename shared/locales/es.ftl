### Textos del bot en español (trato de usted). Fuente: en.ftl.
### Títulos de botones (menu-*, faq-yes, faq-no, list-button, csat-button, csat-no-comment): 20 caracteres como máximo;
### filas de la encuesta (estrellas, un espacio y un csat-score): 24 como máximo.

greeting = ¡Hola, { $name }! Soy el asistente virtual. ¿En qué puedo ayudarle hoy?
greeting-anonymous = ¡Hola! Soy el asistente virtual. ¿En qué puedo ayudarle hoy?

## Menú principal

menu-footer = También puede escribir su pregunta.
menu-order-status = Estado del pedido
menu-faq = Preguntas frecuentes
menu-agent = Hablar con un agente
menu-language = Idioma
list-button = Ver opciones
faq-list-intro = Estas son nuestras preguntas más frecuentes. Elija una o escriba su pregunta.

## Pedidos

ask-order-number = Por favor, envíenos su número de pedido (por ejemplo, { $example }).
bad-order-number = Eso no parece un número de pedido. Por favor, envíelo con el formato { $example }.
order-status = Pedido { $order }: { $status }.
order-not-found = No he encontrado el pedido { $order }. Compruebe el número o hable con un agente.
order-source-down = Lo siento, ahora mismo no puedo consultar los pedidos. Puede volver a intentarlo más tarde o hablar con un agente.

## Preguntas frecuentes

faq-solved-question = ¿Le ha servido esta respuesta?
faq-yes = Sí, gracias
faq-no = No
faq-glad = ¡Perfecto, me alegra haberle ayudado! Escríbanos cuando quiera si necesita algo más.
faq-sorry = Disculpe. Volvamos a intentarlo: elija una opción o hable con un agente.
not-understood = Lo siento, no lo he entendido. Por favor, elija una opción:

## Paso a un equipo ($wait es uno de los textos wait-* de abajo)

handoff = Le paso con nuestro equipo de { $team }. Recibirá una respuesta en un plazo de { $wait }. Verán nuestra conversación, así que no tendrá que repetir nada.
handoff-failures = Siento no haber podido ayudarle. Le paso con nuestro equipo de { $team }; recibirá una respuesta en un plazo de { $wait }.
handoff-out-of-hours = Le paso con nuestro equipo de { $team }. Ahora mismo el equipo no está disponible y le responderá desde { $when }. También puede escribir a { $email }.
handoff-vip = Gracias por su confianza. Le paso directamente con nuestro equipo de { $team }; recibirá una respuesta en un plazo de { $wait }.
handoff-by = Le paso con nuestro equipo de { $team }. Recibirá una respuesta a más tardar { $when }. Verán nuestra conversación, así que no tendrá que repetir nada.
handoff-failures-by = Siento no haber podido ayudarle. Le paso con nuestro equipo de { $team }; recibirá una respuesta a más tardar { $when }.
handoff-vip-by = Gracias por su confianza. Le paso directamente con nuestro equipo de { $team }; recibirá una respuesta a más tardar { $when }.
back-to-bot = No hay problema, he cancelado su solicitud para hablar con un agente. ¿En qué puedo ayudarle?

## Idioma

language-prompt = ¿En qué idioma prefiere continuar?
language-changed = Hecho. Idioma elegido: { $language }.

## Otros mensajes

reaction-thanks = ¡Gracias por sus comentarios!
unsupported-message = Lo siento, no puedo leer este tipo de mensaje. Por favor, envíe un texto o elija una opción:
received-location = Gracias, he recibido su ubicación.
received-contact = Gracias, he recibido el contacto.

## Tiempos de espera

wait-minutes =
    { $count ->
        [one] { $count } minuto
       *[other] { $count } minutos
    }
wait-hours =
    { $count ->
        [one] { $count } hora
       *[other] { $count } horas
    }
wait-days =
    { $count ->
        [one] { $count } día
       *[other] { $count } días
    }

# A file (photo, document, voice note) the customer sent.
received-media = Gracias, he adjuntado su archivo a su solicitud.

# Day of the week, 1 = Monday … 7 = Sunday (when a team opens again).
weekday =
    { $day ->
        [1] lunes
        [2] martes
        [3] miércoles
        [4] jueves
        [5] viernes
        [6] sábado
       *[7] domingo
    }
when-at = el { $weekday } a las { $time }

# Files the customer sent: why one was refused, and what to fix in a photo.
media-too-large = Este archivo es demasiado grande ({ $limit } como máximo). Por favor, envíe uno más pequeño.
media-dangerous = Por su seguridad no podemos aceptar este archivo. Envíe una foto, un PDF o un documento de texto.
media-mismatch = Este archivo no es lo que indica su nombre y no hemos podido abrirlo. Envíelo de nuevo como foto o PDF.
media-unknown-type = No podemos abrir este tipo de archivo. Envíe una foto, un vídeo, una nota de voz o un PDF.
media-corrupt = El archivo ha llegado dañado. ¿Podría enviarlo de nuevo?
photo-too-small = ¡Gracias! La foto es demasiado pequeña para ver los detalles: tómela de nuevo más de cerca, con el producto llenando el encuadre.
photo-too-dark = ¡Gracias! La foto está demasiado oscura: tómela de nuevo junto a una ventana o con más luz, con la etiqueta a la vista.
photo-overexposed = ¡Gracias! La foto tiene demasiada luz para ver los detalles: tómela de nuevo sin luz directa.
photo-blurred = ¡Gracias! La foto está borrosa: sujete el teléfono sin moverlo, toque la pantalla para enfocar y tómela de nuevo.
photo-request = Envíe una foto del producto donde se vea el problema, con buena luz y con la etiqueta a la vista.

## Niveles de servicio y encuestas de satisfacción

# Cuándo tendrá noticias nuestras el cliente, dentro de una frase: $wait es un texto wait-*, $when un texto when-at
# (que ya lleva el artículo: «el lunes a las 09:00»).
expected-within = en un plazo de { $wait }
expected-from = desde { $when }
expected-by = a más tardar { $when }
# Un plazo incumplido, comunicado al cliente; $expected es uno de los textos expected-*.
breach-senior = Lamentamos la espera. Su solicitud se ha derivado a un responsable de nuestro equipo de { $team }; tendrá noticias nuestras { $expected }.
breach-specialists = Su solicitud se ha transferido a nuestros { $team }; tendrá noticias nuestras { $expected }.
# La encuesta tras la resolución: una lista de cinco puntuaciones (de «la ayuda», en femenino).
csat-question = ¿Cómo valoraría la ayuda que ha recibido?
csat-button = Elegir puntuación
csat-score =
    { $score ->
        [1] Muy mala
        [2] Mala
        [3] Regular
        [4] Buena
       *[5] Excelente
    }
csat-thanks-ask = ¡Gracias! ¿Quiere añadir algo? Escríbalo aquí mismo.
csat-no-comment = No, gracias
csat-thanks = Gracias por su opinión.
# A customer known only by their WhatsApp user id is asked for their phone (WhatsApp adds its own button).
contact-request = Para revisar su caso, el equipo necesita su número de teléfono: toque el botón de abajo para compartirlo.
consent-opted-out = No recibirá mensajes nuestros a menos que nos escriba primero. Responda START si cambia de opinión.
consent-opted-in = Gracias: ahora podemos enviarle novedades. Responda STOP en cualquier momento para dejar de recibirlas.
